//! A lock per stage, so that two `bench run`s sharing a work folder (two terminals, two Slurm
//! jobs given the same options) never make the same stage at once: the second waits, saying
//! which run holds it, and then reuses what the first made. The lock is the operating system's
//! advisory lock on `<work>/.locks/<kind>/<label>-<hash>.lock` (outside the stage's folder,
//! which `--force` deletes, and out of the kind's folder, which tools list), so a run that is
//! killed lets go of it with its last breath;
//! no stale lock is ever left to clean up. The file's text, who holds it, is only for the
//! message.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{HarnessError, Result};
use crate::stages::cache::CachedStage;

/// A held stage lock; dropping it lets go.
#[derive(Debug)]
pub struct StageLock {
    file: File,
    path: PathBuf,
}

impl StageLock {
    /// The lock file of `stage`: `<work>/.locks/<kind>/<its folder's name>.lock`.
    pub fn path(stage: &CachedStage) -> PathBuf {
        let mut name = stage
            .dir
            .file_name()
            .expect("a stage folder has a name")
            .to_os_string();
        name.push(".lock");
        let work = stage
            .dir
            .parent()
            .and_then(Path::parent)
            .expect("a stage folder is <work>/<kind>/<name>");
        work.join(".locks").join(stage.kind.as_str()).join(name)
    }

    /// Takes the lock of `stage` if no other run holds it; otherwise says who does (Err with
    /// the holder's description).
    pub fn try_take(stage: &CachedStage) -> Result<std::result::Result<StageLock, String>> {
        let path = Self::path(stage);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| HarnessError::io("cannot create", parent, e))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| HarnessError::io("cannot open", &path, e))?;
        match file.try_lock() {
            Ok(()) => {
                let lock = StageLock { file, path };
                lock.sign()?;
                Ok(Ok(lock))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                Ok(Err(if holder.is_empty() {
                    "another run".to_owned()
                } else {
                    holder.to_owned()
                }))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(HarnessError::io("cannot lock", &path, e)),
        }
    }

    /// Takes the lock of `stage`, waiting (and saying so, once) while another run holds it.
    pub fn take(stage: &CachedStage) -> Result<StageLock> {
        match Self::try_take(stage)? {
            Ok(lock) => Ok(lock),
            Err(holder) => {
                eprintln!(
                    "{} {}: being made by {holder}; waiting for it (its lock: {})",
                    stage.kind.as_str(),
                    stage.label,
                    Self::path(stage).display()
                );
                let path = Self::path(stage);
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .map_err(|e| HarnessError::io("cannot open", &path, e))?;
                file.lock()
                    .map_err(|e| HarnessError::io("cannot lock", &path, e))?;
                let lock = StageLock { file, path };
                lock.sign()?;
                Ok(lock)
            }
        }
    }

    /// Writes who holds it into the file, for the message of a run that waits.
    fn sign(&self) -> Result<()> {
        let host = fs::read_to_string("/etc/hostname").unwrap_or_default();
        let text = format!(
            "run {} on {} since {}\n",
            std::process::id(),
            host.trim(),
            crate::results::meta::now_rfc3339()
        );
        let mut f = &self.file;
        f.set_len(0)
            .and_then(|()| f.write_all(text.as_bytes()))
            .map_err(|e| HarnessError::io("cannot write", &self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::cache::StageKind;

    #[test]
    fn a_held_lock_names_its_holder_and_is_free_once_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let stage = CachedStage::new(tmp.path(), StageKind::Train, "m", &1);
        let held = StageLock::try_take(&stage).unwrap().unwrap();
        assert_eq!(
            StageLock::path(&stage),
            tmp.path()
                .join(format!(".locks/train/m-{}.lock", &stage.hash[..12]))
        );
        let holder = StageLock::try_take(&stage).unwrap().unwrap_err();
        assert!(
            holder.contains(&format!("run {}", std::process::id())),
            "{holder}"
        );
        drop(held);
        assert!(StageLock::try_take(&stage).unwrap().is_ok());
    }

    #[test]
    fn a_waiting_run_gets_the_lock_when_the_holder_lets_go() {
        let tmp = tempfile::tempdir().unwrap();
        let stage = CachedStage::new(tmp.path(), StageKind::Score, "m", &1);
        let held = StageLock::take(&stage).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let stage = stage.clone();
            std::thread::spawn(move || {
                let lock = StageLock::take(&stage).unwrap();
                tx.send(()).unwrap();
                drop(lock);
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(rx.try_recv().is_err(), "the waiter took a held lock");
        drop(held);
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        waiter.join().unwrap();
    }
}
