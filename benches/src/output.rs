//! Small helpers for what the harness writes: atomic files, CSV rows appended atomically, the git
//! revision, progress bars.

use std::fs;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so that
/// `path` is either the old file or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))?;
    let mut tmp = temp_file_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A temporary file in `dir`, readable by everyone like a normal file (`tempfile` makes 0600).
pub fn temp_file_in(dir: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))
}

/// Appends CSV rows to `path` (writing `header` first if the file is new), atomically.
pub fn append_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
    let mut bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if !bytes.is_empty() {
        let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        anyhow::ensure!(
            first == header.join(",").as_bytes(),
            "{} has another header than {:?}; move it away or pass another path",
            path.display(),
            header.join(",")
        );
    }
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if bytes.is_empty() {
        w.write_record(header)?;
    }
    for row in rows {
        w.write_record(row)?;
    }
    bytes.extend(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?);
    write_atomic(path, &bytes)
}

/// The short git revision of the working directory, or `unknown`.
pub fn git_revision() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// A progress bar of `len` steps on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:24} [{bar:32}] {pos}/{len} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message.into());
    bar
}
