//! Writing a directory atomically, for datasets and VoE suites alike: the output is checked
//! before any work, everything is written into a hidden sibling directory, and that is renamed
//! into place only when complete, so an error or an interruption never leaves a partial result
//! under the output name.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Result, SimError};

/// Deletes the partial directory when the run fails with an error (not when it is killed: then
/// the next run resumes it).
pub(crate) struct RemoveOnError(pub(crate) Option<PathBuf>);

impl RemoveOnError {
    /// Keeps the directory: the work succeeded.
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnError {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

/// Fails early, before any work, if `out` cannot be used.
pub(crate) fn check_output(out: &Path, force: bool) -> Result<()> {
    match fs::metadata(out) {
        Ok(m) if !m.is_dir() => Err(SimError::io(
            "output is not a directory:",
            out,
            std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        )),
        Ok(_) => {
            let mut entries = fs::read_dir(out).map_err(|e| SimError::io("cannot read", out, e))?;
            if entries.next().is_some() && !force {
                Err(SimError::OutputExists {
                    path: out.to_owned(),
                })
            } else {
                Ok(())
            }
        }
        Err(_) => Ok(()),
    }
}

/// The directory `out` lives in (`.` for a bare name).
pub(crate) fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Renames the finished partial directory to `out`, replacing an old one only now.
pub(crate) fn move_into_place(partial: &Path, out: &Path, force: bool) -> Result<()> {
    let old = if out.exists() {
        // An empty directory, or any directory with `force`: set it aside first.
        check_output(out, force)?;
        let aside = parent_of(out).join(format!(
            ".{}.old-{}",
            out.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        fs::rename(out, &aside).map_err(|e| SimError::io("cannot replace", out, e))?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = fs::rename(partial, out) {
        if let Some(old) = &old {
            let _ = fs::rename(old, out);
        }
        return Err(SimError::io("cannot move the dataset to", out, e));
    }
    if let Some(old) = old {
        fs::remove_dir_all(&old).map_err(|e| SimError::io("cannot remove", &old, e))?;
    }
    Ok(())
}
