//! The JEPA trains deterministically, resumes bit for bit, stops on NaN, refuses foreign
//! checkpoints, and has the shapes the trait promises.

use candle_core::Device;
use moravec_agents::AgentError;
use moravec_agents::data::Clips;
use moravec_agents::models::WorldModel;
use moravec_agents::train::{TrainConfig, build, checkpoint, train};
use moravec_sim::episode::generate_episode;
use moravec_sim::{EpisodeKey, Split, scene};

/// A few cart_platform episodes in memory, at 32x32.
fn clips(episodes: u64, frames: usize) -> Clips {
    let spec = scene::find("cart_platform").unwrap();
    let mut c = Clips {
        frames: Vec::new(),
        actions: Vec::new(),
        episodes: episodes as usize,
        length: frames,
        size: 32,
        action_dim: spec.action_dim,
    };
    for index in 0..episodes {
        let key = EpisodeKey {
            seed: 1,
            scene: spec.name,
            split: Split::Train,
            index,
        };
        let ep = generate_episode(spec, &key, frames, 32).unwrap();
        c.frames.extend_from_slice(&ep.frames);
        c.actions.extend_from_slice(&ep.actions);
    }
    c
}

fn config(steps: u64) -> TrainConfig {
    TrainConfig {
        batch: 4,
        checkpoint_every: 2,
        ..TrainConfig::new("jepa-vicreg", "tiny", steps)
    }
}

/// The log without its timing columns.
fn log_values(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("training.csv"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').take(6).collect::<Vec<_>>().join(","))
        .collect()
}

#[test]
fn shapes_of_encode_rollout_and_loss() {
    let data = clips(2, 16);
    let (model, mc, _) = build(&config(1), &data, &Device::Cpu).unwrap();
    let batch = data.batch(0, 0, 3, mc.window(), &Device::Cpu).unwrap();
    let z = model.encode(&batch.frames).unwrap();
    assert_eq!(z.dims(), &[3, 12, 16, 32]);
    let ctx = z.narrow(1, 0, 8).unwrap();
    let pred = model
        .rollout(&ctx, &batch.actions.narrow(1, 0, 11).unwrap(), 4)
        .unwrap();
    assert_eq!(pred.dims(), &[3, 4, 16, 32]);
    let losses = model.loss(&batch).unwrap();
    assert_eq!(losses.total.dims(), &[] as &[usize]);
    let names: Vec<&str> = losses.terms.iter().map(|t| t.0).collect();
    assert_eq!(names, ["prediction", "variance", "covariance"]);
}

#[test]
fn resuming_gives_the_same_bits_as_training_straight_through() {
    let data = clips(3, 16);
    let tmp = tempfile::tempdir().unwrap();
    let straight = tmp.path().join("straight");
    let report = train(&config(6), &data, &straight, &Device::Cpu, &|_| true).unwrap();
    assert_eq!((report.steps, report.resumed_from), (6, 0));

    // Interrupted after 3 of 6 steps, then resumed.
    let halves = tmp.path().join("halves");
    let r = train(&config(6), &data, &halves, &Device::Cpu, &|s| s < 3).unwrap();
    assert_eq!(r.steps, 3);
    assert_eq!(checkpoint::read_meta(&r.checkpoint).unwrap().step, 3);
    let r = train(&config(6), &data, &halves, &Device::Cpu, &|_| true).unwrap();
    assert_eq!(r.resumed_from, 3);

    assert_eq!(
        std::fs::read(straight.join("checkpoint.safetensors")).unwrap(),
        std::fs::read(halves.join("checkpoint.safetensors")).unwrap(),
        "weights or optimiser moments differ after resuming"
    );
    assert_eq!(log_values(&straight), log_values(&halves));
    assert_eq!(log_values(&straight).len(), 7);
}

#[test]
fn a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint() {
    let data = clips(2, 16);
    let tmp = tempfile::tempdir().unwrap();
    let wild = TrainConfig {
        lr: 1e12,
        warmup: 0,
        checkpoint_every: 1,
        ..config(40)
    };
    let err = train(&wild, &data, tmp.path(), &Device::Cpu, &|_| true).unwrap_err();
    let AgentError::NonFinite { step, .. } = err else {
        panic!("expected a non-finite loss, got {err}");
    };
    assert!(err_mentions_step(step));
    let meta = checkpoint::read_meta(&tmp.path().join("checkpoint.safetensors")).unwrap();
    assert_eq!(meta.step, step, "the checkpoint is the last good step");
}

fn err_mentions_step(step: u64) -> bool {
    AgentError::NonFinite {
        step,
        value: f32::NAN,
    }
    .to_string()
    .contains(&format!("step {step}"))
}

#[test]
fn a_checkpoint_of_another_config_or_a_corrupt_file_is_refused() {
    let data = clips(2, 16);
    let tmp = tempfile::tempdir().unwrap();
    train(&config(2), &data, tmp.path(), &Device::Cpu, &|_| true).unwrap();
    let other = TrainConfig {
        preset: "small".into(),
        ..config(4)
    };
    let err = train(&other, &data, tmp.path(), &Device::Cpu, &|_| true).unwrap_err();
    assert!(err.to_string().contains("was trained with config"), "{err}");

    std::fs::write(tmp.path().join("checkpoint.safetensors"), b"garbage").unwrap();
    let err = train(&config(4), &data, tmp.path(), &Device::Cpu, &|_| true).unwrap_err();
    assert!(err.to_string().contains("checkpoint.safetensors"), "{err}");

    let err = train(
        &TrainConfig::new("jepa-magic", "tiny", 2),
        &data,
        &tmp.path().join("x"),
        &Device::Cpu,
        &|_| true,
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("jepa-vicreg"), "{err}");
}

#[test]
fn every_parameter_gets_a_gradient() {
    let data = clips(2, 16);
    let tmp = tempfile::tempdir().unwrap();
    train(&config(1), &data, tmp.path(), &Device::Cpu, &|_| true).unwrap();
    let bytes = std::fs::read(tmp.path().join("checkpoint.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut moments = 0;
    for (name, view) in st.tensors() {
        if let Some(param) = name.strip_prefix("adam_m/") {
            moments += 1;
            let any = view
                .data()
                .chunks_exact(4)
                .any(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) != 0.0);
            assert!(any, "{param} got no gradient in the first step");
        }
    }
    assert!(moments > 10);
}
