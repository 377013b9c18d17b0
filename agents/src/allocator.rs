//! How the processes that train and plan set up their allocator (mimalloc, the global allocator
//! of the `bench` binary and of the benchmarks).
//!
//! Every candle op allocates its output, so a training step frees and allocates again hundreds
//! of megabytes of activations. By default mimalloc hands freed memory back to the OS once it
//! has stayed free for its purge delay (1 s in mimalloc v3), and over a run of steps the pages
//! of the activations keep being returned and faulted back in, each zeroed by the kernel. At
//! batch 64 that was about 1,500 faults of 2 MiB pages per `jepa-ema` step, a tenth of the
//! step's time
//! (`perf stat -e page-faults` on `cargo bench -p moravec-agents --bench train_step`). Keeping
//! freed memory committed removes them; the peak memory of a run does not change, only that its
//! pages are not returned between steps.

/// mimalloc v3's option numbers (`enum mi_option_e` in its `mimalloc.h`); the `-sys` crate's
/// constants follow v2's numbering, so they are not used.
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps memory freed by this process committed for reuse instead of returning it to the OS.
/// Call it first thing in `main` of a process whose global allocator is `mimalloc::MiMalloc`;
/// elsewhere it changes nothing.
pub fn retain_freed_memory() {
    set(PURGE_DELAY, -1);
    set(ARENA_EAGER_COMMIT, 1);
}

fn set(option: libmimalloc_sys::mi_option_t, value: i64) {
    // SAFETY: `mi_option_set` takes an option number and a value, both plain integers, and only
    // stores the value in mimalloc's option table (it is thread-safe and valid before or after
    // any allocation); the numbers are checked against mimalloc's defaults in the test below.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(option, value as _)
    }
}

#[cfg(test)]
fn get(option: libmimalloc_sys::mi_option_t) -> i64 {
    // SAFETY: as in `set`, a read of mimalloc's option table.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_get(option) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_numbers_name_the_purge_delay_and_eager_commit() {
        // mimalloc v3's defaults (1000 ms, and 2 = eager on overcommitting systems) sit at these
        // numbers unless the environment set them: the numbers name the right options.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(PURGE_DELAY), 1000);
        }
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
            assert_eq!(get(ARENA_EAGER_COMMIT), 2);
        }
        retain_freed_memory();
        assert_eq!(get(PURGE_DELAY), -1);
        assert_eq!(get(ARENA_EAGER_COMMIT), 1);
    }
}
