//! Embeds the built web app (`client-examples/web/dist`, committed) in the binary: writes
//! `$OUT_DIR/web_assets.rs`, one `include_bytes!` per file with its path and an ETag, so
//! `/app` and GraphiQL are served without Node or a network. Cargo reruns this when anything
//! under `dist` changes; `include_bytes!` tracks each file's contents.

use std::{
    env, fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

fn main() -> io::Result<()> {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("client-examples/web/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if dist.is_dir() {
        collect(&dist, &dist, &mut files)?;
    }
    files.sort();
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("web_assets.rs");
    let mut code = Vec::new();
    writeln!(
        code,
        "/// The files of `client-examples/web/dist`, sorted by path."
    )?;
    writeln!(code, "pub static ASSETS: &[Asset] = &[")?;
    for (path, file) in &files {
        let bytes = fs::read(file)?;
        writeln!(
            code,
            "    Asset {{ path: {path:?}, body: include_bytes!({file:?}), etag: \"\\\"{:016x}\\\"\" }},",
            fnv1a(&bytes),
            file = file.display().to_string(),
        )?;
    }
    writeln!(code, "];")?;
    fs::write(out, code)
}

/// Every file below `dir`, as (path relative to `root` with `/` separators, absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            let name: Vec<_> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((name.join("/"), path.canonicalize()?));
        }
    }
    Ok(())
}

/// FNV-1a, 64 bits: a stable content hash for ETags (no dependency in a build script).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
