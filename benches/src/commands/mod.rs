//! One file per subcommand.

pub mod device_check;
pub mod generate;
pub mod plan;
pub mod preview;
pub mod run;
pub mod score;
pub mod throughput;
pub mod train;
