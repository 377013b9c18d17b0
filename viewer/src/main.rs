//! `view`: Moravec's scenes in bevy. See `moravec_viewer::Args` for the options.

use std::process::ExitCode;

use bevy::app::AppExit;
use clap::Parser;
use moravec_viewer::{Args, app};

fn main() -> ExitCode {
    match run() {
        Ok(AppExit::Success) => ExitCode::SUCCESS,
        Ok(AppExit::Error(code)) => ExitCode::from(code.get()),
        Err(e) => {
            eprintln!("view: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<AppExit> {
    let args = Args::parse();
    Ok(app::build(&args)?.run())
}
