//! `bench`: Moravec's harness. Without a subcommand it runs the default preset end to end; see
//! `--help`.

use clap::Parser;

mod cli;
mod commands;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    moravec_agents::allocator::retain_freed_memory();
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    match cli.command {
        None => commands::run::run(&cli::RunArgs::parse_from(["run"])),
        Some(cli::Command::Run(args)) => commands::run::run(&args),
        Some(cli::Command::Generate(args)) => commands::generate::run(&args),
        Some(cli::Command::Preview(args)) => commands::preview::run(&args),
        Some(cli::Command::Throughput(args)) => commands::throughput::run(&args).map(|_| ()),
        Some(cli::Command::Train(args)) => commands::train::run(&args),
        Some(cli::Command::Plan(args)) => commands::plan::run(&args),
        Some(cli::Command::DeviceCheck(args)) => commands::device_check::run(&args),
        Some(cli::Command::Score(args)) => commands::score::run(&args),
        Some(cli::Command::Merge(args)) => commands::generate::merge(&args),
    }
}
