//! `bench score`: one model's surprise on a VoE suite, scored beside the controls into a results
//! folder (see [`moravec_bench::scorecard`]).

use anyhow::{Context, bail};
use moravec_agents::train::load_checkpoint;
use moravec_bench::device::device;
use moravec_bench::scorecard::{Request, Source, score};
use moravec_bench::submission::read_surprise;
use moravec_sim::voe::Suite;

use crate::cli::ScoreArgs;

/// Frames one window of the harness's models spans (8 context + 4 predicted).
const DEFAULT_WINDOW: usize = 12;

/// Runs `bench score`.
pub fn run(args: &ScoreArgs) -> anyhow::Result<()> {
    let suite = Suite::load(&args.suite)
        .with_context(|| format!("cannot read the suite {}", args.suite.display()))?;
    let device = device(args.device.as_str())?;
    let vars;
    let (source, name, window) = match (&args.surprise, &args.checkpoint) {
        (Some(file), _) => (
            Source::Submitted(read_surprise(file, &suite)?),
            args.name.clone().unwrap_or_else(|| "submission".into()),
            args.window.unwrap_or(DEFAULT_WINDOW),
        ),
        (None, Some(checkpoint)) => {
            vars = load_checkpoint(checkpoint, &device)
                .with_context(|| format!("cannot load {}", checkpoint.display()))?;
            let c = &vars.config;
            if c.size != suite.meta.size {
                bail!(
                    "checkpoint {} is of a model at {}x{}, the suite {} is at {}x{}: expected a \
                     suite of the model's size (bench generate --voe --size {})",
                    checkpoint.display(),
                    c.size,
                    c.size,
                    args.suite.display(),
                    suite.meta.size,
                    suite.meta.size,
                    c.size
                );
            }
            (
                Source::Model(&*vars.model),
                args.name
                    .clone()
                    .unwrap_or_else(|| vars.model.name().to_owned()),
                args.window.unwrap_or(c.context + c.horizon),
            )
        }
        (None, None) => bail!("give --surprise FILE or --checkpoint C"),
    };
    let request = Request {
        suite: &suite,
        name: &name,
        source,
        window,
        stride: args.stride,
        bootstrap: args.bootstrap,
        seed: args.seed,
        device: &device,
    };
    let (rows, warnings) = score(&request, &args.out)?;
    for w in &warnings {
        eprintln!("WARNING: {w}");
    }
    let headline = rows.iter().filter(|r| {
        r.model == name
            && r.condition.is_headline()
            && r.metric == "relative_accuracy"
            && r.aggregation == moravec_bench::report::Aggregation::Mean
            && r.subset == moravec_bench::report::Subset::All
    });
    for r in headline {
        println!(
            "{name} {} {}: {:.2} [{:.2}, {:.2}]",
            r.property, r.condition, r.value, r.ci_low, r.ci_high
        );
    }
    println!("wrote {}", args.out.display());
    Ok(())
}
