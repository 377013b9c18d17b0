//! The JEPA trains deterministically, resumes bit for bit, stops on NaN, refuses foreign
//! checkpoints, and has the shapes the trait promises.

use candle_core::Device;
use moravec_agents::AgentError;
use moravec_agents::data::Clips;
use moravec_agents::models::{MODELS, ModelVars, surprise};
use moravec_agents::train::{
    TrainConfig, build, checkpoint, load_checkpoint, snapshot_path, train,
};
use moravec_sim::Split;

mod common;

/// A few cart_platform episodes in memory, at 32x32.
fn clips(episodes: u64, frames: usize) -> Clips {
    common::clips("cart_platform", Split::Train, 1, episodes, frames)
}

fn config(steps: u64) -> TrainConfig {
    TrainConfig {
        batch: 4,
        checkpoint_every: 2,
        ..TrainConfig::new("jepa-vicreg", "tiny", steps)
    }
}

/// Trains `cfg` on `data` in a fresh folder and loads the model back from its checkpoint alone.
fn train_and_load(cfg: &TrainConfig, data: &Clips) -> ModelVars {
    let tmp = tempfile::tempdir().unwrap();
    train(cfg, data, tmp.path(), &Device::Cpu, &|_| true).unwrap();
    load_checkpoint(&tmp.path().join("checkpoint.safetensors"), &Device::Cpu).unwrap()
}

/// The log without its timing columns.
fn log_values(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("training.csv"))
        .unwrap()
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            cols[..cols.len() - 2].join(",")
        })
        .collect()
}

#[test]
fn shapes_of_encode_rollout_loss_and_surprise_for_every_model() {
    let data = clips(2, 16);
    for spec in MODELS {
        let cfg = TrainConfig::new(spec.name, "tiny", 1);
        let built = build(&cfg, &data, &Device::Cpu).unwrap();
        let (model, mc) = (&built.model, &built.config);
        assert_eq!(model.name(), spec.name);
        // The registry says what the built model does.
        assert_eq!(model.has_memory(), spec.memory, "{}", spec.name);
        let batch = data.batch(0, 0, 3, mc.window(), &Device::Cpu).unwrap();
        let z = model.encode_batch(&batch).unwrap();
        // 32x32 frames in 8x8 patches: 16 tokens, or one per body slot for the models given
        // masks; latent width 32 (the slot models' followed by the slot's geometry), or raw
        // 8x8x3 patches.
        let n = if spec.privileged.is_some() {
            moravec_agents::models::slots::MAX_SLOTS
        } else {
            16
        };
        let d = match spec.name {
            "pixel-video" => 192,
            _ if spec.privileged.is_some() => 32 + moravec_agents::models::slots::GEOMETRY,
            _ => 32,
        };
        assert_eq!(z.dims(), &[3, 12, n, d], "{}", spec.name);
        let ctx = z.narrow(1, 0, 8).unwrap();
        let acts = batch.actions.narrow(1, 0, 11).unwrap();
        let pred = model.rollout(&ctx, &acts, 4).unwrap();
        assert_eq!(pred.dims(), &[3, 4, n, d], "{}", spec.name);
        let in_target = model.predict_targets(&ctx, &acts, 4).unwrap();
        let targets = model.targets_batch(&batch).unwrap();
        assert_eq!(in_target.dims()[..3], [3, 4, n], "{}", spec.name);
        assert_eq!(in_target.dims()[3], targets.dims()[3], "{}", spec.name);
        let losses = model.loss(&batch).unwrap();
        assert_eq!(losses.total.dims(), &[] as &[usize]);
        assert!(losses.total.to_scalar::<f32>().unwrap().is_finite());
        // Surprise: one value per window of a 16-frame video (16 - 8 - 4 + 1 = 5), or per frame
        // from the second for a model with a state through the whole movie.
        let video = data.windows(&[(1, 0)], 16, &Device::Cpu).unwrap();
        let s = match model.movie_surprise(&video).unwrap() {
            Some(s) => {
                assert_eq!(s.len(), 15, "{}", spec.name);
                s
            }
            None => surprise(model.as_ref(), &video.frames, &video.actions).unwrap(),
        };
        assert_eq!(s.len(), if spec.privileged.is_some() { 15 } else { 5 });
        assert!(
            s.iter().all(|v| v.is_finite() && *v >= 0.0),
            "{}: {s:?}",
            spec.name
        );
    }
}

#[test]
fn resuming_gives_the_same_bits_as_training_straight_through() {
    let data = clips(3, 16);
    for spec in MODELS.iter().filter(|m| m.trains) {
        let cfg = TrainConfig {
            model: spec.name.to_owned(),
            ..config(6)
        };
        let tmp = tempfile::tempdir().unwrap();
        let straight = tmp.path().join("straight");
        let report = train(&cfg, &data, &straight, &Device::Cpu, &|_| true).unwrap();
        assert_eq!((report.steps, report.resumed_from), (6, 0));

        // Interrupted after 3 of 6 steps, then resumed.
        let halves = tmp.path().join("halves");
        let r = train(&cfg, &data, &halves, &Device::Cpu, &|s| s < 3).unwrap();
        assert_eq!(r.steps, 3);
        assert_eq!(checkpoint::read_header(&r.checkpoint).unwrap().step, 3);
        let r = train(&cfg, &data, &halves, &Device::Cpu, &|_| true).unwrap();
        assert_eq!(r.resumed_from, 3);

        assert_eq!(
            std::fs::read(straight.join("checkpoint.safetensors")).unwrap(),
            std::fs::read(halves.join("checkpoint.safetensors")).unwrap(),
            "{}: weights, EMA target or optimiser moments differ after resuming",
            spec.name
        );
        assert_eq!(log_values(&straight), log_values(&halves), "{}", spec.name);
        assert_eq!(log_values(&straight).len(), 7);
    }
}

/// The learning curves score the model as it was at the kept steps: each copy holds exactly the
/// weights of a run stopped there, and survives an interruption and a resume.
#[test]
fn kept_checkpoints_are_the_model_as_it_was_at_their_steps() {
    let data = clips(3, 16);
    let cfg = TrainConfig {
        keep: vec![1, 4],
        ..config(6)
    };
    let tmp = tempfile::tempdir().unwrap();
    let (straight, halves, stopped) = (
        tmp.path().join("straight"),
        tmp.path().join("halves"),
        tmp.path().join("stopped"),
    );
    train(&cfg, &data, &straight, &Device::Cpu, &|_| true).unwrap();
    train(&cfg, &data, &halves, &Device::Cpu, &|s| s < 3).unwrap();
    assert!(snapshot_path(&halves, 1).exists());
    assert!(!snapshot_path(&halves, 4).exists());
    train(&cfg, &data, &halves, &Device::Cpu, &|_| true).unwrap();
    train(&cfg, &data, &stopped, &Device::Cpu, &|s| s < 4).unwrap();
    // A run killed between a checkpoint and its snapshot (as an older build wrote them): the
    // snapshot is missing though the checkpoint is past it; resuming trains from the start and
    // makes it again, the same bits.
    let lost = tmp.path().join("lost");
    train(&cfg, &data, &lost, &Device::Cpu, &|s| s < 4).unwrap();
    std::fs::remove_file(snapshot_path(&lost, 4)).unwrap();
    train(&cfg, &data, &lost, &Device::Cpu, &|_| true).unwrap();
    assert_eq!(
        std::fs::read(snapshot_path(&lost, 4)).unwrap(),
        std::fs::read(snapshot_path(&straight, 4)).unwrap()
    );
    let read = |p: std::path::PathBuf| std::fs::read(&p).unwrap();
    for step in [1, 4] {
        assert_eq!(
            read(snapshot_path(&straight, step)),
            read(snapshot_path(&halves, step)),
            "step {step}"
        );
        let h = checkpoint::read_header(&snapshot_path(&straight, step)).unwrap();
        assert_eq!(h.step, step);
    }
    assert_eq!(
        read(snapshot_path(&straight, 4)),
        read(stopped.join("checkpoint.safetensors"))
    );
    assert_ne!(
        read(snapshot_path(&straight, 4)),
        read(straight.join("checkpoint.safetensors"))
    );
    assert!(!snapshot_path(&straight, 2).exists());
}

#[test]
fn the_untrained_control_keeps_its_initial_weights() {
    let data = clips(2, 16);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = TrainConfig::new("untrained", "tiny", 50);
    let r = train(&cfg, &data, tmp.path(), &Device::Cpu, &|_| true).unwrap();
    assert_eq!(r.steps, 0);
    let loaded = load_checkpoint(&r.checkpoint, &Device::Cpu).unwrap();
    let fresh = build(&cfg, &data, &Device::Cpu).unwrap();
    let batch = data.batch(0, 0, 2, 12, &Device::Cpu).unwrap();
    let a: Vec<f32> = loaded
        .model
        .encode(&batch.frames)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let b: Vec<f32> = fresh
        .model
        .encode(&batch.frames)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(
        a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn the_ema_target_starts_as_the_online_encoder_and_then_lags_it() {
    let data = clips(2, 16);
    let cfg = TrainConfig {
        model: "jepa-ema".into(),
        ..config(5)
    };
    let built = build(&cfg, &data, &Device::Cpu).unwrap();
    assert!(!built.ema.is_empty());
    for (t, o) in &built.ema {
        let (t, o): (Vec<f32>, Vec<f32>) = (
            t.as_tensor().flatten_all().unwrap().to_vec1().unwrap(),
            o.as_tensor().flatten_all().unwrap().to_vec1().unwrap(),
        );
        assert_eq!(t, o);
    }
    let tmp = tempfile::tempdir().unwrap();
    train(&cfg, &data, tmp.path(), &Device::Cpu, &|_| true).unwrap();
    let trained =
        load_checkpoint(&tmp.path().join("checkpoint.safetensors"), &Device::Cpu).unwrap();
    let mut moved = 0.0f32;
    for (t, o) in &trained.ema {
        let diff = (t.as_tensor() - o.as_tensor())
            .unwrap()
            .abs()
            .unwrap()
            .sum_all()
            .unwrap();
        moved += diff.to_scalar::<f32>().unwrap();
    }
    assert!(
        moved > 0.0,
        "the target encoder follows the online one exactly"
    );
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
    let meta = checkpoint::read_header(&tmp.path().join("checkpoint.safetensors")).unwrap();
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

    // One flipped bit anywhere in the tensors (here the last byte, some Adam moment), or in
    // the header's text, is found when the file is read: by `load` and by a resumed training.
    let path = tmp.path().join("checkpoint.safetensors");
    let good = std::fs::read(&path).unwrap();
    assert!(moravec_agents::train::load_checkpoint(&path, &Device::Cpu).is_ok());
    // The step as the header's text (escaped inside the safetensors header) gives it.
    let step_at = good
        .windows(7)
        .position(|w| w == b"step\\\":")
        .expect("the header names the step")
        + 7;
    assert_eq!(good[step_at], b'2');
    for at in [good.len() - 1, good.len() / 2, step_at] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&path, &bad).unwrap();
        let err = moravec_agents::train::load_checkpoint(&path, &Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("checkpoint.safetensors")
                && (err.contains("damaged") || err.contains("metadata")),
            "byte {at}: {err}"
        );
        let err = train(&config(4), &data, tmp.path(), &Device::Cpu, &|_| true).unwrap_err();
        assert!(err.to_string().contains("checkpoint.safetensors"), "{err}");
    }

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

#[test]
fn a_longer_horizon_trains_and_comes_back_from_its_checkpoint() {
    let data = clips(2, 16);
    let long = TrainConfig {
        horizon: Some(6),
        ..config(2)
    };
    let built = train_and_load(&long, &data);
    assert_eq!(built.config.horizon, 6);
    assert_eq!(built.config.window(), 8 + 6);
    // A horizon of 0 is refused by name.
    let err = build(
        &TrainConfig {
            horizon: Some(0),
            ..config(2)
        },
        &data,
        &Device::Cpu,
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("horizon"), "{err}");
}

#[test]
fn a_frameskip_model_trains_on_strided_data_and_comes_back_from_its_checkpoint() {
    // 14 frames strided by 2 are 7 model frames: too few for the tiny preset's window of 12,
    // so the window is cut to 4 + 2.
    let data = clips(2, 14);
    let skip = TrainConfig {
        frameskip: Some(2),
        context: Some(4),
        horizon: Some(2),
        ..config(2)
    };
    let built = train_and_load(&skip, &data);
    assert_eq!(built.config.frameskip, 2);
    assert_eq!(built.config.action_dim, 2 * data.action_dim);
    assert_eq!(built.config.step_action_dim(), data.action_dim);
    // Unstrided, the same window would fit too; strided by 3 the 5 model frames do not.
    let strided_by = |k| {
        let cfg = TrainConfig {
            frameskip: Some(k),
            ..skip.clone()
        };
        let tmp = tempfile::tempdir().unwrap();
        train(&cfg, &data, tmp.path(), &Device::Cpu, &|_| true)
            .err()
            .unwrap()
            .to_string()
    };
    let err = strided_by(3);
    assert!(err.contains("window"), "{err}");
    // A frameskip of 0 is refused by name.
    let err = strided_by(0);
    assert!(err.contains("frameskip"), "{err}");
}

/// A FiLM model trains its gains, says so in its checkpoint's config, and comes back with them;
/// the option is left out of a plain model's saved config (older checkpoints read the same).
#[test]
fn a_film_model_trains_and_comes_back_with_its_gains() {
    let data = clips(2, 14);
    let film = TrainConfig {
        film: true,
        context: Some(4),
        horizon: Some(2),
        ..config(2)
    };
    let built = train_and_load(&film, &data);
    assert!(built.config.film);
    // Trained away from their initial zeros (the gradient reaches them), saved and loaded.
    let vars = built.varmap.data().lock().unwrap();
    let gains = vars
        .get("predictor.film.weight")
        .expect("a FiLM layer in the checkpoint");
    let moved = gains
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .iter()
        .filter(|g| **g != 0.0)
        .count();
    assert!(moved > 0, "the FiLM gains never trained");
    let plain = train_and_load(
        &TrainConfig {
            film: false,
            ..film.clone()
        },
        &data,
    );
    assert!(!plain.config.film);
    assert!(
        !plain
            .varmap
            .data()
            .lock()
            .unwrap()
            .contains_key("predictor.film.weight")
    );
    let saved = serde_json::to_string(&plain.config).unwrap();
    assert!(!saved.contains("film"), "{saved}");
}

/// The header is typed: the training config and the resolved architecture read back as they
/// were, and the one resolver the trainer builds from gives that same architecture.
#[test]
fn a_checkpoint_header_reads_back_typed_and_the_model_loads_from_it_alone() {
    let data = clips(2, 16);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        context: Some(6),
        ..config(2)
    };
    let r = train(&cfg, &data, tmp.path(), &Device::Cpu, &|_| true).unwrap();
    let header = checkpoint::read_header(&r.checkpoint).unwrap();
    assert_eq!(header.train, cfg);
    assert_eq!(header.step, 2);
    let resolved = cfg.model_config(data.size, data.action_dim).unwrap();
    assert_eq!(header.config, resolved);
    assert_eq!(header.config.context, 6);
    let loaded = load_checkpoint(&r.checkpoint, &Device::Cpu).unwrap();
    assert_eq!(loaded.config, resolved);
    assert_eq!(loaded.model.name(), "jepa-vicreg");
}

#[test]
fn a_damaged_dataset_shard_is_found_when_the_dataset_is_loaded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let config = moravec_sim::dataset::GenerateConfig {
        scene: "occlusion".into(),
        split: Split::Train,
        episodes: 3,
        frames: 6,
        seed: 1,
        size: 16,
        samples: 1,
        shard_episodes: None,
        nuisance: Default::default(),
    };
    moravec_sim::dataset::write_dataset(&config, &dir, false, &|| {}).unwrap();
    assert_eq!(Clips::load(&dir).unwrap().episodes, 3);
    let meta = moravec_sim::dataset::read_meta(&dir).unwrap();
    let shard = dir.join(&meta.shards[0].file);
    let mut bytes = std::fs::read(&shard).unwrap();
    // A bit of some pixel, in the middle of the frames.
    let at = bytes.len() / 3;
    bytes[at] ^= 0x10;
    std::fs::write(&shard, &bytes).unwrap();
    // Named by its own hash in meta.json; a dataset written before shards had one is still
    // caught by the content hash.
    let err = Clips::load(&dir).err().unwrap().to_string();
    assert!(
        err.contains(&meta.shards[0].file) && err.contains("damaged"),
        "{err}"
    );
    let meta_path = dir.join("meta.json");
    let mut old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    old["shards"][0].as_object_mut().unwrap().remove("sha256");
    std::fs::write(&meta_path, old.to_string()).unwrap();
    let err = Clips::load(&dir).err().unwrap().to_string();
    assert!(
        err.contains("meta.json") && err.contains("damaged") && err.contains("content hash"),
        "{err}"
    );
}
