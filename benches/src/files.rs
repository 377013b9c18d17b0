//! The harness's files: atomic writes (a temporary file in the same folder, then a rename), CSV
//! tables written whole or appended atomically, JSON read back with the file named in errors,
//! and animated GIFs. Every writer of the harness goes through here, so that no file it leaves
//! is ever half written.

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{HarnessError, Result};

/// The folder a file goes in: its parent, or `.` for a bare file name.
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// How the temporary files of atomic writes begin: a write killed half-way leaves one, which
/// [`remove_stale_temps`] knows by it.
pub const TEMP_PREFIX: &str = ".moravec-partial-";

/// A temporary file beside `path` (created with its folder), readable by everyone like a normal
/// file (`tempfile` makes 0600); persisting it onto `path` is the atomic step.
pub fn temp_file_for(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir).map_err(|e| HarnessError::io("cannot create", &dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    builder
        .tempfile_in(&dir)
        .map_err(|e| HarnessError::io("cannot write into", &dir, e))
}

/// Removes from `dir` (not below it) the temporary files that writes killed half-way left
/// there; they are never read, but a results folder should hold results only. Call it where no
/// other process writes into `dir` at the same time (a stage under its lock, the results folder
/// of a run).
pub fn remove_stale_temps(dir: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| HarnessError::io("cannot remove", &path, e))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so that
/// `path` is either the old file or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_file_for(path)?;
    std::io::Write::write_all(&mut tmp, bytes)
        .map_err(|e| HarnessError::io("cannot write", path, e))?;
    tmp.persist(path)
        .map_err(|e| HarnessError::io("cannot write", path, e.error))?;
    Ok(())
}

/// Writes text atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, text.as_bytes())
}

/// Reads a JSON file into `T`, naming the file when it cannot.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).map_err(|e| HarnessError::io("cannot read", path, e))?;
    serde_json::from_str(&text).map_err(|e| HarnessError::Schema {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// A CSV table in memory: `header` then `rows`.
fn csv_bytes(header: &[&str], rows: &[Vec<String>], with_header: bool) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if with_header {
        w.write_record(header).expect("in memory");
    }
    for r in rows {
        w.write_record(r).expect("in memory");
    }
    w.into_inner().expect("in memory")
}

/// Writes a CSV atomically.
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    write_atomic(path, &csv_bytes(header, rows, true))
}

/// Appends CSV rows to `path` (writing `header` first if the file is new), atomically.
pub fn append_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(HarnessError::io("cannot read", path, e)),
    };
    if !bytes.is_empty() {
        let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        if first != header.join(",").as_bytes() {
            return Err(HarnessError::Schema {
                path: path.to_owned(),
                message: format!(
                    "has another header than {:?}; move it away or pass another path",
                    header.join(",")
                ),
            });
        }
    }
    let new = bytes.is_empty();
    bytes.extend(csv_bytes(header, rows, new));
    write_atomic(path, &bytes)
}

/// Opens a CSV file and reads its header, which must be `expected` when one is given.
pub fn open_csv(
    path: &Path,
    expected: Option<&[&str]>,
) -> Result<(csv::Reader<fs::File>, Vec<String>)> {
    let bad = |m: String| HarnessError::Schema {
        path: path.to_owned(),
        message: m,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    if let Some(expected) = expected
        && header != expected
    {
        return Err(bad(format!("header {header:?}, expected {expected:?}")));
    }
    Ok((reader, header))
}

/// Numbers in results files: shortest text that reads back to the same bits.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else {
        format!("{x}")
    }
}

/// Writes an animated GIF of `count` RGB canvases of `width` x `height`, drawn one at a time by
/// `canvas(t)`, looping, 1/30 s a frame (GIF delays count hundredths), atomically.
pub fn write_gif(
    path: &Path,
    width: usize,
    height: usize,
    count: usize,
    canvas: &mut dyn FnMut(usize) -> Vec<u8>,
) -> Result<()> {
    if width > u16::MAX as usize || height > u16::MAX as usize {
        return Err(HarnessError::Invalid {
            what: "GIF size".into(),
            value: format!("{width}x{height}"),
            expected: format!("at most {0}x{0}", u16::MAX),
        });
    }
    let gif_err = |e: gif::EncodingError| HarnessError::Schema {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let tmp = temp_file_for(path)?;
    {
        let mut enc = gif::Encoder::new(
            BufWriter::new(tmp.as_file()),
            width as u16,
            height as u16,
            &[],
        )
        .map_err(gif_err)?;
        enc.set_repeat(gif::Repeat::Infinite).map_err(gif_err)?;
        for t in 0..count {
            let pixels = canvas(t);
            let mut frame = gif::Frame::from_rgb_speed(width as u16, height as u16, &pixels, 10);
            frame.delay = 3;
            enc.write_frame(&frame).map_err(gif_err)?;
        }
    }
    tmp.persist(path)
        .map_err(|e| HarnessError::io("cannot write", path, e.error))?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_to_the_same_bits() {
        for x in [0.1f64, 1.0 / 3.0, 12345.678e-9, 0.5] {
            assert_eq!(num(x).parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
        assert_eq!(num(f64::NAN), "NaN");
    }

    #[test]
    fn appending_keeps_one_header_and_refuses_another() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("t.csv");
        append_csv(&path, &["a", "b"], &[vec!["1".into(), "2".into()]]).unwrap();
        append_csv(&path, &["a", "b"], &[vec!["3".into(), "4".into()]]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a,b\n1,2\n3,4\n");
        let e = append_csv(&path, &["x"], &[]).unwrap_err().to_string();
        assert!(e.contains("t.csv") && e.contains("another header"), "{e}");
    }

    #[test]
    fn a_file_name_alone_goes_in_the_working_folder() {
        assert_eq!(parent_dir(Path::new("a.gif")), PathBuf::from("."));
        assert_eq!(parent_dir(Path::new("x/a.gif")), PathBuf::from("x"));
    }
}
