//! Writing datasets: the round trip, the content hash, and bad input that leaves nothing behind.

use std::fs;
use std::path::Path;

use moravec_sim::dataset::{GenerateConfig, read_meta, read_shard, verify, write_dataset};
use moravec_sim::episode::generate_episode;
use moravec_sim::{EpisodeKey, SimError, Split, scene};

mod common;
use common::downgrade;

fn config(scene: &str) -> GenerateConfig {
    GenerateConfig {
        scene: scene.into(),
        split: Split::Val,
        episodes: 5,
        frames: 6,
        seed: 3,
        size: 16,
        samples: 1,
        shard_episodes: Some(2),
        nuisance: Default::default(),
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_dataset_reads_back_with_its_shapes_hash_and_episodes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    let cfg = config("table_clearing");
    let meta = write_dataset(&cfg, &out, false, &|| {}).unwrap();
    assert_eq!(listing(tmp.path()), ["ds"], "temporary files left behind");
    assert_eq!(
        listing(&out),
        [
            "meta.json",
            "shard-00000.safetensors",
            "shard-00001.safetensors",
            "shard-00002.safetensors",
            "trajectories.csv"
        ]
    );
    assert_eq!(read_meta(&out).unwrap(), meta);
    assert_eq!(verify(&out).unwrap().content_hash, meta.content_hash);
    assert_eq!(meta.shards.iter().map(|s| s.episodes).sum::<u64>(), 5);

    // Episode 4 (second of the last shard... the only one) equals the episode generated alone.
    let spec = scene::find("table_clearing").unwrap();
    let last = read_shard(&out, &meta, &meta.shards[2]).unwrap();
    let key = EpisodeKey {
        seed: 3,
        scene: spec.name,
        split: Split::Val,
        index: 4,
    };
    let alone = generate_episode(spec, &key, 6, 16).unwrap();
    assert_eq!(last.frames, alone.frames);
    assert_eq!(last.masks, alone.masks);
    assert_eq!(last.masks.len(), 6 * 16 * 16);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&last.states), bits(&alone.states));
    assert_eq!(bits(&last.actions), bits(&alone.actions));

    // The CSV has one row per present body and frame, plus the header.
    let csv = fs::read_to_string(out.join("trajectories.csv")).unwrap();
    let present: usize = (0..3)
        .map(|k| {
            read_shard(&out, &meta, &meta.shards[k])
                .unwrap()
                .body_mask
                .iter()
                .filter(|&&m| m == 1)
                .count()
        })
        .sum();
    assert_eq!(csv.lines().count(), 1 + present * 6);
    assert!(csv.starts_with("episode,t,body,x,y,z,qx,qy,qz,qw,vx,vy,vz,wx,wy,wz\n"));
}

#[test]
fn the_same_config_writes_the_same_hash_and_a_tampered_shard_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write_dataset(&config("occlusion"), &tmp.path().join("a"), false, &|| {}).unwrap();
    let b = write_dataset(&config("occlusion"), &tmp.path().join("b"), false, &|| {}).unwrap();
    assert_eq!(a.content_hash, b.content_hash);
    for f in [
        "shard-00000.safetensors",
        "shard-00001.safetensors",
        "trajectories.csv",
    ] {
        assert_eq!(
            fs::read(tmp.path().join("a").join(f)).unwrap(),
            fs::read(tmp.path().join("b").join(f)).unwrap(),
            "{f} differs between two identical runs"
        );
    }
    let mut other = config("occlusion");
    other.seed = 4;
    let c = write_dataset(&other, &tmp.path().join("c"), false, &|| {}).unwrap();
    assert_ne!(a.content_hash, c.content_hash);

    // Flip one frame byte near the end of a shard: the hash check must notice.
    let shard = tmp.path().join("a").join("shard-00001.safetensors");
    let mut bytes = fs::read(&shard).unwrap();
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[8 + header + 10] ^= 0xff;
    fs::write(&shard, bytes).unwrap();
    let err = verify(&tmp.path().join("a")).unwrap_err().to_string();
    assert!(
        err.contains("shard-00001.safetensors") && err.contains("damaged"),
        "{err}"
    );
    // Without the shards' own hashes (a dataset written before them), the content hash.
    forget_shard_hashes(&tmp.path().join("a"));
    let err = verify(&tmp.path().join("a")).unwrap_err();
    assert!(err.to_string().contains("content hash"), "{err}");
}

/// Removes the shards' own hashes from a dataset's meta.json, as a dataset written before
/// them has none.
fn forget_shard_hashes(dir: &std::path::Path) {
    let path = dir.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    for shard in meta["shards"].as_array_mut().unwrap() {
        assert!(shard.as_object_mut().unwrap().remove("sha256").is_some());
    }
    fs::write(&path, meta.to_string()).unwrap();
}

#[test]
fn bad_settings_are_named_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    let cases: Vec<(GenerateConfig, &str)> = vec![
        (
            GenerateConfig {
                scene: "cartpole".into(),
                ..config("occlusion")
            },
            "cart_platform, occlusion",
        ),
        (
            GenerateConfig {
                episodes: 0,
                ..config("occlusion")
            },
            "episodes = 0",
        ),
        (
            GenerateConfig {
                frames: 0,
                ..config("occlusion")
            },
            "frames = 0",
        ),
        (
            GenerateConfig {
                size: 8,
                ..config("occlusion")
            },
            "size = 8",
        ),
        (
            GenerateConfig {
                size: 513,
                ..config("occlusion")
            },
            "size = 513",
        ),
        (
            GenerateConfig {
                samples: 9,
                ..config("occlusion")
            },
            "rays per pixel side = 9",
        ),
        (
            GenerateConfig {
                shard_episodes: Some(0),
                nuisance: Default::default(),
                ..config("occlusion")
            },
            "shard episodes = 0",
        ),
    ];
    for (cfg, needle) in cases {
        let err = write_dataset(&cfg, &out, false, &|| {}).unwrap_err();
        assert!(
            err.to_string().contains(needle),
            "`{err}` does not mention `{needle}`"
        );
        assert!(listing(tmp.path()).is_empty(), "files left after `{err}`");
    }
}

#[test]
fn an_existing_dataset_is_kept_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let err = write_dataset(&config("collision"), &out, false, &|| {}).unwrap_err();
    assert!(matches!(err, SimError::OutputExists { .. }), "{err}");
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(listing(&out), ["notes.txt"]);
    assert_eq!(listing(tmp.path()), ["ds"]);

    // An empty directory is fine; with --force a non-empty one is replaced whole.
    let meta = write_dataset(&config("collision"), &out, true, &|| {}).unwrap();
    assert!(!out.join("notes.txt").exists());
    assert_eq!(verify(&out).unwrap(), meta);
    assert_eq!(listing(tmp.path()), ["ds"]);
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    write_dataset(&config("collision"), &empty, false, &|| {}).unwrap();
}

#[test]
fn an_unwritable_output_is_an_error_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    // A regular file where a directory is needed: fails even for root.
    let file = tmp.path().join("plain-file");
    fs::write(&file, "x").unwrap();
    let err = write_dataset(&config("collision"), &file.join("ds"), false, &|| {}).unwrap_err();
    assert!(err.to_string().contains("plain-file"), "{err}");
    let err = write_dataset(&config("collision"), &file, true, &|| {}).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
    assert_eq!(listing(tmp.path()), ["plain-file"]);
    assert_eq!(fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn an_interrupted_run_resumes_from_its_complete_shards() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config("cart_platform");
    let full = write_dataset(&cfg, &tmp.path().join("full"), false, &|| {}).unwrap();

    // A run killed after two of its three shards: they sit in its partial directory, next to a
    // shard it was still writing.
    let out = tmp.path().join("resumed");
    let partial = moravec_sim::dataset::partial_dir(&cfg, &out);
    fs::create_dir_all(&partial).unwrap();
    for f in ["shard-00000.safetensors", "shard-00001.safetensors"] {
        fs::copy(tmp.path().join("full").join(f), partial.join(f)).unwrap();
    }
    fs::write(partial.join("shard-00002.safetensors.tmp"), b"half a shard").unwrap();
    let generated = AtomicUsize::new(0);
    let meta = write_dataset(&cfg, &out, false, &|| {
        generated.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(
        generated.load(Ordering::Relaxed),
        1,
        "only the last episode was missing"
    );
    assert_eq!(meta, full);
    for f in ["shard-00002.safetensors", "trajectories.csv", "meta.json"] {
        assert_eq!(
            fs::read(out.join(f)).unwrap(),
            fs::read(tmp.path().join("full").join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(listing(tmp.path()), ["full", "resumed"]);

    // A damaged shard in a partial directory is regenerated, not trusted.
    let out = tmp.path().join("again");
    let partial = moravec_sim::dataset::partial_dir(&cfg, &out);
    fs::create_dir_all(&partial).unwrap();
    fs::write(partial.join("shard-00000.safetensors"), b"not a shard").unwrap();
    generated.store(0, Ordering::Relaxed);
    let meta = write_dataset(&cfg, &out, false, &|| {
        generated.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(generated.load(Ordering::Relaxed), 5);
    assert_eq!(meta.content_hash, full.content_hash);
}

#[test]
fn a_supersampled_dataset_records_its_rays_and_keeps_the_physics() {
    let tmp = tempfile::tempdir().unwrap();
    let one = write_dataset(
        &config("cart_platform"),
        &tmp.path().join("one"),
        false,
        &|| {},
    )
    .unwrap();
    let four_cfg = GenerateConfig {
        samples: 4,
        ..config("cart_platform")
    };
    let four = write_dataset(&four_cfg, &tmp.path().join("four"), false, &|| {}).unwrap();
    assert_eq!((one.camera.samples, four.camera.samples), (1, 4));
    assert_ne!(one.content_hash, four.content_hash);
    let a = read_shard(&tmp.path().join("one"), &one, &one.shards[0]).unwrap();
    let b = read_shard(&tmp.path().join("four"), &four, &four.shards[0]).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    // The same episodes: the renderer only looks at the world.
    assert_eq!(bits(&a.states), bits(&b.states));
    assert_eq!(bits(&a.actions), bits(&b.actions));
    assert_eq!(a.frames.len(), b.frames.len());
    assert_ne!(
        a.frames, b.frames,
        "edges must blend with sixteen rays per pixel"
    );
    // Each dataset's frames are those of its own environment.
    let key = EpisodeKey {
        seed: 3,
        scene: "cart_platform",
        split: Split::Val,
        index: 0,
    };
    let spec = scene::find("cart_platform").unwrap();
    let ep = generate_episode(spec, &key, 6, moravec_sim::Raster::new(16, 4).unwrap()).unwrap();
    assert_eq!(ep.frames[..], b.frames[..ep.frames.len()]);
}

/// The byte range of tensor `name` in a safetensors file's data section.
fn tensor_range(bytes: &[u8], name: &str) -> std::ops::Range<usize> {
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let json: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header]).unwrap();
    let offsets = &json[name]["data_offsets"];
    let (a, b) = (offsets[0].as_u64().unwrap(), offsets[1].as_u64().unwrap());
    8 + header + a as usize..8 + header + b as usize
}

#[test]
fn the_instance_masks_are_in_the_content_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ds");
    let meta = write_dataset(&config("collision"), &dir, false, &|| {}).unwrap();
    let shard = read_shard(&dir, &meta, &meta.shards[0]).unwrap();
    // The first two bodies show in the masks, and nothing but the scene's slots and 255.
    for slot in 0..2u8 {
        assert!(shard.masks.contains(&slot), "slot {slot} never masked");
    }
    assert!(shard.masks.iter().all(|&m| m < 3 || m == 255));
    let path = dir.join(&meta.shards[0].file);
    let mut bytes = fs::read(&path).unwrap();
    let range = tensor_range(&bytes, "masks");
    assert_eq!(range.len(), shard.masks.len());
    bytes[range.start + range.len() / 2] ^= 0x01;
    fs::write(&path, bytes).unwrap();
    forget_shard_hashes(&dir);
    let err = verify(&dir).unwrap_err();
    assert!(err.to_string().contains("content hash"), "{err}");
}

#[test]
fn a_dataset_of_the_older_layout_is_upgraded_in_place_only_if_its_content_is_the_same() {
    use moravec_sim::dataset::upgrade_dataset;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ds");
    let cfg = config("occlusion");
    let meta = write_dataset(&cfg, &dir, false, &|| {}).unwrap();
    let before = read_shard(&dir, &meta, &meta.shards[1]).unwrap();
    // The current layout is left alone.
    assert!(!upgrade_dataset(&cfg, &dir, &|| {}).unwrap());
    downgrade(&dir);
    let err = read_meta(&dir).unwrap_err().to_string();
    assert!(err.contains("schema_version 1"), "{err}");
    // An upgrade killed half-way through its swap: one shard already new, the old meta.json.
    let other = tmp.path().join("other");
    write_dataset(&cfg, &other, false, &|| {}).unwrap();
    fs::rename(
        other.join(&meta.shards[0].file),
        dir.join(&meta.shards[0].file),
    )
    .unwrap();
    fs::remove_dir_all(&other).unwrap();
    assert!(read_meta(&dir).is_err(), "still the old layout");
    assert!(upgrade_dataset(&cfg, &dir, &|| {}).unwrap());
    assert_eq!(verify(&dir).unwrap().content_hash, meta.content_hash);
    let after = read_shard(&dir, &meta, &meta.shards[1]).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert!(after.frames == before.frames && after.masks == before.masks);
    assert!(bits(&after.states) == bits(&before.states));
    assert_eq!(listing(tmp.path()), ["ds"], "the upgrade left files behind");

    // An old dataset this config did not make (its recorded hash is not what the config makes)
    // is refused and kept as it was.
    downgrade(&dir);
    let path = dir.join("meta.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    json["content_hash"] = format!("sha256:{}", "0".repeat(64)).into();
    fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let shard = dir.join(&meta.shards[0].file);
    let (old_meta, old_shard) = (fs::read(&path).unwrap(), fs::read(&shard).unwrap());
    let err = upgrade_dataset(&cfg, &dir, &|| {}).unwrap_err().to_string();
    assert!(err.contains("not to the recorded"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), old_meta);
    assert_eq!(fs::read(&shard).unwrap(), old_shard);
    assert_eq!(listing(tmp.path()), ["ds"]);
}
