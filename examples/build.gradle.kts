// Gradle (Kotlin DSL) for an Android app module: run sp-pack before the app is
// built and feed its outputs to AGP's source sets. Inputs and outputs are
// declared, so Gradle skips the task when nothing changed.
import org.gradle.api.tasks.Exec

plugins {
    id("com.android.application")
}

val pythonDir = layout.projectDirectory.dir("python")      // per-ABI CPython trees
val packedDir = layout.buildDirectory.dir("sp-pack")        // sp-pack --out

val packPython by tasks.registering(Exec::class) {
    description = "Packages CPython for Android with sp-pack"
    inputs.dir(pythonDir).withPropertyName("python").withPathSensitivity(PathSensitivity.RELATIVE)
    inputs.file("sp-pack.config.json").withPropertyName("config")
    outputs.dir(packedDir).withPropertyName("packed")
    executable = "sp-pack"
    args("pack", "--config", "sp-pack.config.json",
         "--out", packedDir.get().asFile.absolutePath, "--strict", "-q")
}

android {
    namespace = "org.example.pyapp"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        ndk { abiFilters += listOf("arm64-v8a", "x86_64") }
    }
    sourceSets["main"].jniLibs.srcDir(packedDir.map { it.dir("jniLibs") })
    sourceSets["main"].assets.srcDir(packedDir.map { it.dir("assets") })
    // Stored, page-aligned natives mapped straight from the APK.
    packaging { jniLibs { useLegacyPackaging = false } }
    // Python zips stay stored (zipimport cannot read deflated entries of a deflated zip).
    androidResources { noCompress += listOf("zip") }
}

tasks.named("preBuild") { dependsOn(packPython) }
