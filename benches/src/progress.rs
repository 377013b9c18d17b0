//! Progress on long work: one bar per piece of work on stderr (hidden when stderr is not a
//! terminal), and the rate of what it did, for `throughput.csv`.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar of `len` steps on stderr.
fn progress(len: u64, message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:24} [{bar:32}] {pos}/{len} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message.into());
    bar
}

/// Runs `work` under a bar of `len` steps, clears the bar, and returns what `work` returned with
/// the seconds it took.
pub fn with_progress<T, E>(
    len: u64,
    message: impl Into<String>,
    work: impl FnOnce(&ProgressBar) -> Result<T, E>,
) -> Result<(T, f64), E> {
    let bar = progress(len, message);
    let start = Instant::now();
    let out = work(&bar)?;
    bar.finish_and_clear();
    Ok((out, start.elapsed().as_secs_f64()))
}

/// `count` things in `seconds`, per second (never a division by zero).
pub fn rate(count: f64, seconds: f64) -> f64 {
    count / seconds.max(1e-9)
}
