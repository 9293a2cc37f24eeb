// Gradle (Kotlin DSL) for an Android app module that packages CPython with
// sp-pack and has it read in place from the installed APK. docs/gradle.md
// explains every part; docs/runtime.md the app side.
//
// gradle.properties (or -P): spPack=/path/to/sp-pack
//                            spPackPython=/path/to/python3.X  (the host CPython of the
//                                                              trees' X.Y, for --pyc-only)
// python/<abi>/lib/python3.X/, python/<abi>/site-packages/ and
// python/<abi>/lib/libpython3.X.so: the CPython built for each ABI.
import javax.inject.Inject
import org.gradle.process.ExecOperations

plugins {
    id("com.android.application")
}

/** Runs `sp-pack pack` and hands its assets/ and jniLibs/ to AGP. */
abstract class PackPython : DefaultTask() {
    @get:InputFile
    @get:PathSensitive(PathSensitivity.NONE)
    abstract val spPack: RegularFileProperty

    @get:InputFile
    @get:PathSensitive(PathSensitivity.NONE)
    abstract val python: RegularFileProperty

    @get:InputDirectory
    @get:PathSensitive(PathSensitivity.RELATIVE)
    abstract val trees: DirectoryProperty

    @get:Input
    abstract val abis: ListProperty<String>

    @get:Input
    abstract val pythonVersion: Property<String>

    @get:Input
    abstract val excludes: ListProperty<String>

    @get:LocalState
    abstract val packDir: DirectoryProperty

    @get:OutputDirectory
    abstract val assetsDir: DirectoryProperty

    @get:OutputDirectory
    abstract val jniLibsDir: DirectoryProperty

    @get:Inject
    abstract val exec: ExecOperations

    @get:Inject
    abstract val files: FileSystemOperations

    @TaskAction
    fun pack() {
        val root = trees.get().asFile
        val out = packDir.get().asFile
        val version = pythonVersion.get()
        exec.exec {
            executable = spPack.get().asFile.absolutePath
            args("pack", "--out", out.absolutePath, "-q",
                 "--pyc-only", "--python", python.get().asFile.absolutePath)
            args("--stdlib")
            args(abis.get().map { "$it=$root/$it/lib/python$version" })
            args("--site-packages")
            args(abis.get().map { "$it=$root/$it/site-packages" })
            args("--lib")
            args(abis.get().map { "$it=$root/$it/lib/libpython$version.so" })
            if (excludes.get().isNotEmpty()) {
                args("--exclude")
                args(excludes.get())
            }
        }
        files.sync { from(out.resolve("assets")); into(assetsDir) }
        files.sync { from(out.resolve("jniLibs")); into(jniLibsDir) }
    }
}

android {
    namespace = "org.example.pyapp"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        ndk { abiFilters += listOf("arm64-v8a", "x86_64") }
    }
    // Natives stored and page-aligned, mapped by the linker from the APK.
    packaging { jniLibs { useLegacyPackaging = false } }
    // The Python zips and the boot set stored: read in place, never inflated.
    androidResources { noCompress += listOf(".zip", ".py", ".pyc") }
}

val packPython = tasks.register<PackPython>("packPython") {
    description = "Packages CPython for Android with sp-pack"
    spPack.set(layout.file(providers.gradleProperty("spPack").map { File(it) }))
    python.set(layout.file(providers.gradleProperty("spPackPython").map { File(it) }))
    trees.set(layout.projectDirectory.dir("python"))
    abis.set(provider { android.defaultConfig.ndk.abiFilters.sorted() })
    pythonVersion.set("3.11")
    excludes.set(listOf("sitecustomize.py", "test", "idlelib", "tkinter", "__phello__"))
    packDir.set(layout.buildDirectory.dir("sp-pack"))
}

androidComponents {
    onVariants { variant ->
        variant.sources.assets?.addGeneratedSourceDirectory(packPython, PackPython::assetsDir)
        variant.sources.jniLibs?.addGeneratedSourceDirectory(packPython, PackPython::jniLibsDir)
    }
}
