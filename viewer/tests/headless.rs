//! The viewer's logic without rendering, as bevy's own tests drive apps (`MinimalPlugins`, no
//! window), and the `view` binary: its headless screenshot and its bad input.

use std::process::Command;

use bevy::prelude::*;
use moravec_sim::scene::find;
use moravec_sim::voe::{
    Condition, DEFAULT_FRAMES, Property, SetRequest, SuiteConfig, generate_set, set_seed,
    write_suite,
};
use moravec_sim::{BodyId, BodyState};
use moravec_viewer::sim_plugin::{movie_body_pose, pose};
use moravec_viewer::{BodyLink, Movie, MovieBodyLink, SimPlugin, SimState};

fn app(scene: &str, seed: u64) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins).add_plugins(SimPlugin {
        spec: find(scene).unwrap(),
        seed,
        size: 32,
    });
    app
}

/// Every body's state, as bits.
fn bits(world: &moravec_sim::World) -> Vec<(BodyId, Vec<u32>)> {
    world
        .body_ids()
        .map(|id| {
            let s: BodyState = world.body_state(id);
            (id, s.iter().map(|v| v.to_bits()).collect())
        })
        .collect()
}

fn transforms(app: &mut App) -> Vec<(BodyId, Transform)> {
    let mut q = app.world_mut().query::<(&BodyLink, &Transform)>();
    let mut v: Vec<_> = q.iter(app.world()).map(|(l, t)| (l.0, *t)).collect();
    v.sort_by_key(|(id, _)| *id);
    v
}

#[test]
fn mirrored_transforms_equal_the_sim_bodies_poses() {
    // Balls fly in the collision scene, so the poses change from frame to frame.
    let mut app = app("collision", 5);
    app.update();
    let first = transforms(&mut app);
    for _ in 0..10 {
        app.update();
    }
    let later = transforms(&mut app);
    let mut sim = app.world_mut().resource_mut::<SimState>();
    assert_eq!(
        sim.frames, 10,
        "one physics step per update after the first"
    );
    let world = sim.env().world();
    assert_eq!(later.len(), world.len(), "one entity per body");
    for (id, transform) in &later {
        assert_eq!(*transform, pose(world, *id), "body {id:?}");
    }
    assert!(
        first.iter().zip(&later).any(|(a, b)| a.1 != b.1),
        "nothing moved in ten frames"
    );
}

#[test]
fn a_key_press_changes_the_pushers_velocity() {
    let mut app = app("cart_platform", 3);
    app.update();
    app.update();
    let pusher = {
        let mut sim = app.world_mut().resource_mut::<SimState>();
        let pusher = sim.pusher.expect("the cart scene has a pusher");
        assert_eq!(
            sim.env().world().linvel(pusher),
            [0.0; 3],
            "at rest without keys"
        );
        pusher
    };
    app.world_mut()
        .resource_mut::<ButtonInput<KeyCode>>()
        .press(KeyCode::ArrowRight);
    app.update();
    let mut sim = app.world_mut().resource_mut::<SimState>();
    let max = sim.spec().max_action;
    let v = sim.env().world().linvel(pusher);
    assert!(v[0] > 0.5 * max, "the pusher moves right: {v:?}");
    assert!(v[2].abs() < 1e-6, "and only right: {v:?}");
}

#[test]
fn reset_restores_the_seeds_initial_state() {
    let spec = find("cart_platform").unwrap();
    let mut fresh = spec.make(32).unwrap();
    fresh.reset(7);
    let initial = bits(fresh.world());
    let mut app = app("cart_platform", 7);
    app.update();
    app.world_mut()
        .resource_mut::<ButtonInput<KeyCode>>()
        .press(KeyCode::ArrowUp);
    for _ in 0..20 {
        app.update();
    }
    {
        let mut sim = app.world_mut().resource_mut::<SimState>();
        assert_ne!(
            bits(sim.env().world()),
            initial,
            "twenty frames of pushing changed nothing"
        );
    }
    let mut keys = app.world_mut().resource_mut::<ButtonInput<KeyCode>>();
    keys.release(KeyCode::ArrowUp);
    keys.clear();
    keys.press(KeyCode::KeyR);
    app.update();
    {
        let mut sim = app.world_mut().resource_mut::<SimState>();
        assert_eq!(sim.frames, 0);
        assert_eq!(bits(sim.env().world()), initial);
    }
    // The mirrored entities show the initial state too.
    app.world_mut()
        .resource_mut::<ButtonInput<KeyCode>>()
        .clear();
    let shown = transforms(&mut app);
    let world = fresh.world();
    for (id, transform) in shown {
        assert_eq!(transform, pose(world, id));
    }
}

#[test]
fn seed_and_scene_keys_rebuild_the_world() {
    let mut app = app("cart_platform", 3);
    app.update();
    let press = |app: &mut App, key| {
        let mut keys = app.world_mut().resource_mut::<ButtonInput<KeyCode>>();
        keys.clear();
        keys.release_all();
        keys.press(key);
        app.update();
    };
    press(&mut app, KeyCode::BracketRight);
    assert_eq!(app.world().resource::<SimState>().seed, 4);
    press(&mut app, KeyCode::BracketLeft);
    assert_eq!(app.world().resource::<SimState>().seed, 3);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.world().resource::<SimState>().spec().name, "occlusion");
    app.update();
    let n = transforms(&mut app).len();
    let mut sim = app.world_mut().resource_mut::<SimState>();
    assert_eq!(
        n,
        sim.env().world().len(),
        "the new scene's bodies, and only them"
    );
}

#[test]
fn bad_arguments_name_the_value_and_fail() {
    let out = Command::new(env!("CARGO_BIN_EXE_view"))
        .args(["--scene", "no_such_scene", "--headless"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no_such_scene") && err.contains("cart_platform"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_view"))
        .args(["--size", "7", "--headless"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--size"));
    let out = Command::new(env!("CARGO_BIN_EXE_view"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a window without a display");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--headless"));
}

/// Renders with no display at all (Mesa's software Vulkan in CI) and checks the picture: not
/// one colour, and the cart's colour where the cart projects.
#[test]
fn headless_screenshot_shows_the_cart() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("out.png");
    let (w, h) = (320usize, 240usize);
    let out = Command::new(env!("CARGO_BIN_EXE_view"))
        .args([
            "--scene",
            "cart_platform",
            "--seed",
            "3",
            "--headless",
            "--frames",
            "30",
        ])
        .args(["--width", &w.to_string(), "--height", &h.to_string()])
        .arg("--screenshot")
        .arg(&png)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "view failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = image::open(&png).unwrap().to_rgb8();
    assert_eq!((image.width() as usize, image.height() as usize), (w, h));
    let first = image.get_pixel(0, 0);
    assert!(image.pixels().any(|p| p != first), "a single colour");

    // Where the cart is after those frames (no keys: the pusher stays, the cart rests).
    let spec = find("cart_platform").unwrap();
    let mut env = spec.make(64).unwrap();
    let obs = env.reset(3);
    let slot = spec.slots.iter().position(|s| *s == "cart").unwrap();
    for _ in 0..30 {
        env.step(&vec![0.0; spec.action_dim]).unwrap();
    }
    let start = obs.states[slot].unwrap();
    let world = env.world();
    let cart = world
        .body_ids()
        .find(|&id| {
            let p = world.position(id);
            world.kind(id) == moravec_sim::BodyKind::Dynamic
                && (p[0] - start[0]).abs() < 0.05
                && (p[2] - start[2]).abs() < 0.05
        })
        .expect("the cart");
    let colour = world.color(cart).to_u8();
    let camera = env.camera().clone().with_size(w, h).unwrap();
    let [x, y] = camera.project(world.position(cart)).expect("in view");
    let near = |p: &image::Rgb<u8>| (0..3).all(|c| (p[c] as i32 - colour[c] as i32).abs() <= 4);
    let (cx, cy) = (x as i64, y as i64);
    let found = (-4..=4).any(|dy| {
        (-4..=4).any(|dx| {
            let (px, py) = (cx + dx, cy + dy);
            px >= 0
                && py >= 0
                && (px as usize) < w
                && (py as usize) < h
                && near(image.get_pixel(px as u32, py as u32))
        })
    });
    assert!(
        found,
        "no pixel of the cart's colour {colour:?} near ({x:.0}, {y:.0})"
    );
}

fn press(app: &mut App, key: KeyCode) {
    let mut keys = app.world_mut().resource_mut::<ButtonInput<KeyCode>>();
    keys.clear();
    keys.release_all();
    keys.press(key);
    app.update();
    app.world_mut()
        .resource_mut::<ButtonInput<KeyCode>>()
        .clear();
}

/// The movie body entities' transforms and visibility, by movie body.
fn movie_bodies(app: &mut App) -> Vec<(usize, Transform, Visibility)> {
    let mut q = app
        .world_mut()
        .query::<(&MovieBodyLink, &Transform, &Visibility)>();
    let mut v: Vec<_> = q
        .iter(app.world())
        .map(|(l, t, vis)| (l.0, *t, *vis))
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

/// Checks that every movie body entity shows its body's pose in the movie's current frame (hidden
/// where the body is not in it), and that the model panel's frame is the movie's.
fn shows_the_movie(app: &mut App) {
    let shown = movie_bodies(app);
    let sim = app.world().resource::<SimState>();
    let movie = sim.movie.as_ref().expect("a movie plays");
    assert_eq!(shown.len(), movie.bodies.all().len(), "one entity per body");
    for (i, transform, visibility) in shown {
        assert_eq!(
            (transform, visibility),
            movie_body_pose(movie, i),
            "body {i}"
        );
    }
    assert_eq!(sim.frame, movie.frame());
}

#[test]
fn v_steps_through_the_scenes_voe_variants_then_back_to_live() {
    let mut app = app("occlusion", 2);
    app.update();
    let mut frames = Vec::new();
    for (member, possible) in [(0, true), (1, true), (2, false), (3, false)] {
        press(&mut app, KeyCode::KeyV);
        for _ in 0..5 {
            app.update();
        }
        shows_the_movie(&mut app);
        let sim = app.world().resource::<SimState>();
        let movie = sim.movie.as_ref().unwrap();
        assert_eq!(movie.t, 5, "one frame per update after the first");
        let status = sim.status();
        assert!(status.contains("permanence occluded"), "{status}");
        let name = ['A', 'B', 'C', 'D'][member];
        assert!(status.contains(&format!("movie {name} of 4")), "{status}");
        assert!(
            status.contains(if possible { ", possible" } else { "impossible" }),
            "{status}"
        );
        frames.push(movie.frame().data);
    }
    // The set's movies, generated for the seed shown: A and B differ (the object is gone).
    let set = generate_set(&SetRequest {
        property: Property::Permanence,
        condition: Condition::Occluded,
        seed: set_seed(0, Property::Permanence, Condition::Occluded, 2),
        index: 2,
        frames: DEFAULT_FRAMES,
        size: 32,
    })
    .unwrap();
    let len = 32 * 32 * 3;
    for (m, shown) in frames.iter().enumerate() {
        assert_eq!(shown, &set.members[m].episode.frames[5 * len..6 * len]);
    }
    assert_ne!(frames[0], frames[1]);
    // The impossible C, after the splice: the bodies of A's world are hidden, B's shown.
    press(&mut app, KeyCode::KeyP); // next test: permanence visible, movie A
    press(&mut app, KeyCode::KeyV);
    press(&mut app, KeyCode::KeyV);
    let t = {
        let mut sim = app.world_mut().resource_mut::<SimState>();
        let movie = sim.movie.as_mut().unwrap();
        assert!(
            movie.label.contains("permanence visible"),
            "{}",
            movie.label
        );
        assert!(movie.label.contains("movie C"), "{}", movie.label);
        movie.t = movie.violation.unwrap();
        movie.t
    };
    app.update(); // steps to t + 1
    shows_the_movie(&mut app);
    let hidden = movie_bodies(&mut app)
        .iter()
        .filter(|x| x.2 == Visibility::Hidden)
        .count();
    assert!(hidden > 0, "A's bodies are hidden after the splice at {t}");
    // After the last movie, V goes back to the live scene and its bodies.
    press(&mut app, KeyCode::KeyV);
    press(&mut app, KeyCode::KeyV);
    app.update();
    assert!(app.world().resource::<SimState>().movie.is_none());
    assert!(movie_bodies(&mut app).is_empty());
    let n = transforms(&mut app).len();
    let mut sim = app.world_mut().resource_mut::<SimState>();
    assert_eq!(n, sim.env().world().len());
}

/// A small VoE suite on disk and a run's curves for its first permanence movies.
fn suite_and_run(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let suite = dir.join("voe");
    let config = SuiteConfig {
        seed: 1,
        sets: 1,
        frames: 48,
        size: 32,
        nuisance: Default::default(),
    };
    write_suite(&config, &suite, false, &|| {}).unwrap();
    let run = dir.join("run");
    std::fs::create_dir_all(&run).unwrap();
    let mut csv = String::from("run,model,property,episode,target_frame,surprise\n");
    for model in ["pixel-ae", "jepa-vicreg"] {
        for episode in 0..4 {
            for frame in 8..44 {
                let v = if model == "jepa-vicreg" {
                    0.01 * frame as f64
                } else {
                    1.0
                };
                csv += &format!("r,{model},permanence,{episode},{frame},{v}\n");
            }
        }
    }
    std::fs::write(run.join("curves.csv"), csv).unwrap();
    (suite, run)
}

#[test]
fn a_replayed_voe_movie_shows_its_frames_bodies_and_curve() {
    let tmp = tempfile::tempdir().unwrap();
    let (suite, run) = suite_and_run(tmp.path());
    let replay = moravec_sim::replay::load(&suite.join("permanence"), 2).unwrap();
    let curve = moravec_viewer::curve::load(&run, None, Property::Permanence, 2).unwrap();
    assert_eq!(curve.model, "jepa-vicreg", "the default model");
    assert_eq!(curve.points.len(), 36);
    let frame7 = replay.frame(7).to_vec();
    let mut app = app("occlusion", 0);
    app.update();
    app.world_mut()
        .resource_mut::<SimState>()
        .play(Movie::from_replay(replay, Some(curve)));
    for _ in 0..8 {
        app.update();
    }
    shows_the_movie(&mut app);
    let sim = app.world().resource::<SimState>();
    assert_eq!(sim.frame.data, frame7);
    let status = sim.status();
    assert!(status.contains("frame 7/48"), "{status}");
    assert!(status.contains("set 0 movie C, impossible"), "{status}");
    assert!(status.contains("surprise: no window yet"), "{status}");
    app.update();
    let status = app.world().resource::<SimState>().status();
    assert!(status.contains("jepa-vicreg surprise 0.0800"), "{status}");
    // R starts the movie again; space pauses it.
    press(&mut app, KeyCode::KeyR);
    press(&mut app, KeyCode::Space);
    app.update();
    let t = app.world().resource::<SimState>().movie.as_ref().unwrap().t;
    assert!(t <= 1, "restarted and paused at {t}");
    shows_the_movie(&mut app);
}

#[test]
fn view_replays_an_episode_headless_and_names_bad_replay_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let (suite, run) = suite_and_run(tmp.path());
    let png = tmp.path().join("replay.png");
    let view = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_view"))
            .args(args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .unwrap()
    };
    let permanence = suite.join("permanence");
    let (permanence, run, png_s) = (
        permanence.to_str().unwrap(),
        run.to_str().unwrap(),
        png.to_str().unwrap(),
    );
    let out = view(&[
        "--headless",
        "--replay",
        permanence,
        "--episode",
        "3",
        "--run",
        run,
        "--model",
        "pixel-ae",
        "--frames",
        "12",
        "--width",
        "200",
        "--height",
        "150",
        "--screenshot",
        png_s,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("episode 3 (permanence"), "{stdout}");
    let image = image::open(&png).unwrap().to_rgb8();
    assert_eq!((image.width(), image.height()), (200, 150));

    let fails = |args: &[&str], needle: &str| {
        let out = view(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    fails(
        &["--headless", "--replay", permanence, "--episode", "99"],
        "episode",
    );
    fails(
        &[
            "--headless",
            "--replay",
            permanence,
            "--run",
            run,
            "--model",
            "nope",
        ],
        "--model nope",
    );
    fails(
        &["--headless", "--replay", "/nonexistent/dataset"],
        "/nonexistent/dataset",
    );
    fails(&["--headless", "--run", run], "--replay");
}
