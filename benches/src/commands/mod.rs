//! One file per subcommand.

pub mod generate;
pub mod plan;
pub mod preview;
pub mod suite;
pub mod throughput;
pub mod train;
