//! `bench`: Moravec's harness. Without a subcommand it runs the default suite; see `--help`.

use clap::Parser;

mod cli;
mod commands;
mod output;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
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
        None => commands::suite::run(&cli::SuiteArgs::parse_from(["run"])),
        Some(cli::Command::Run(args)) => commands::suite::run(&args),
        Some(cli::Command::Generate(args)) => commands::generate::run(&args),
        Some(cli::Command::Preview(args)) => commands::preview::run(&args),
        Some(cli::Command::Throughput(args)) => commands::throughput::run(&args).map(|_| ()),
        Some(cli::Command::Train(args)) => commands::train::run(&args),
    }
}
