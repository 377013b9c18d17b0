//! Builds the viewer's bevy app from the command line: a window, or a headless render into an
//! image.

use std::time::Duration;

use anyhow::{Context, bail};
use bevy::app::ScheduleRunnerPlugin;
use bevy::asset::RenderAssetUsages;
use bevy::camera::RenderTarget;
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat, TextureUsages};
use bevy::window::{ExitCondition, PresentMode, WindowResolution};
use bevy::winit::{WinitPlugin, WinitSettings};

use crate::args::Args;
use crate::capture::{Capture, capture};
use crate::controls::HELP;
use crate::movie::Movie;
use crate::orbit::{Orbit, orbit};
use crate::sim_plugin::{SimPlugin, SimSet};
use crate::world_state::SimState;
use crate::{bodies, curve, curve_panel, model_view};
use moravec_sim::SceneSpec;

/// Frames a headless run renders when neither --frames nor a screenshot asks for more.
const HEADLESS_FRAMES: u32 = 30;

/// The app the arguments ask for, or an error naming the bad argument.
pub fn build(args: &Args) -> anyhow::Result<App> {
    let movie = match &args.replay {
        Some(dir) => Some(replay(args, dir)?),
        None => None,
    };
    let spec = match &movie {
        Some((spec, _)) => *spec,
        None => moravec_sim::scene::find(&args.scene)
            .with_context(|| format!("--scene {}", args.scene))?,
    };
    moravec_sim::camera::check_size("--size", args.size)?;
    if args.width == 0 || args.height == 0 || args.width > 8192 || args.height > 8192 {
        bail!(
            "--width {} --height {}: expected 1 to 8192 pixels each",
            args.width,
            args.height
        );
    }
    if args.frames == Some(0) {
        bail!("--frames 0: expected at least 1 frame");
    }
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
    if !args.headless && !display {
        bail!(
            "no display (DISPLAY and WAYLAND_DISPLAY are unset): add --headless to render into \
             an image, or run under xvfb-run"
        );
    }
    let mut app = App::new();
    let target = if args.headless {
        app.add_plugins(
            DefaultPlugins
                .set(WindowPlugin {
                    primary_window: None,
                    exit_condition: ExitCondition::DontExit,
                    close_when_requested: false,
                    ..default()
                })
                .disable::<WinitPlugin>(),
        )
        .add_plugins(ScheduleRunnerPlugin::run_loop(Duration::from_secs_f64(
            1.0 / 60.0,
        )));
        let image = render_target(args.width, args.height);
        Some(app.world_mut().resource_mut::<Assets<Image>>().add(image))
    } else {
        app.add_plugins(DefaultPlugins.set(WindowPlugin {
            primary_window: Some(Window {
                title: "moravec view".into(),
                resolution: WindowResolution::new(args.width, args.height),
                present_mode: PresentMode::AutoNoVsync,
                ..default()
            }),
            ..default()
        }))
        // Keep stepping without focus (under Xvfb no window manager gives it).
        .insert_resource(WinitSettings::continuous());
        None
    };
    app.add_plugins(SimPlugin {
        spec,
        seed: args.seed,
        size: args.size,
    })
    .add_systems(Update, show_status.after(SimSet))
    .insert_resource(ClearColor(background(spec)?))
    .insert_resource(ViewTarget(target.clone()))
    .add_systems(Startup, setup_camera)
    .add_systems(
        Update,
        (
            bodies::dress_bodies,
            model_view::update_image,
            curve_panel::update_image,
            orbit,
            follow_scene,
        )
            .after(SimSet),
    );
    if args.headless || args.frames.is_some() || args.screenshot.is_some() {
        let frames = args.frames.unwrap_or(HEADLESS_FRAMES);
        app.insert_resource(Capture {
            frames,
            path: args.screenshot.clone(),
            image: target,
            count: 0,
            saved: false,
        })
        .add_systems(Last, capture);
    }
    if let Some((_, movie)) = movie {
        app.world_mut().resource_mut::<SimState>().play(movie);
    }
    println!("{HELP}");
    Ok(app)
}

/// The movie `--replay` asks for, with the curve `--run` asks for.
fn replay(args: &Args, dir: &std::path::Path) -> anyhow::Result<(&'static SceneSpec, Movie)> {
    let what = || format!("--replay {} --episode {}", dir.display(), args.episode);
    let replay = moravec_sim::replay::load(dir, args.episode).with_context(what)?;
    let curve = match &args.run {
        None => None,
        Some(run) => {
            let Some(voe) = &replay.voe else {
                bail!(
                    "--run {}: surprise curves exist for the VoE suite's movies only, and {} \
                     is a {} split",
                    run.display(),
                    dir.display(),
                    replay.scene.name
                );
            };
            Some(curve::load(
                run,
                args.model.as_deref(),
                voe.property,
                args.episode,
            )?)
        }
    };
    Ok((replay.scene, Movie::from_replay(replay, curve)))
}

/// The text in the top left corner: what is shown, and the help line.
#[derive(Component)]
struct StatusText;

/// Shows what is on screen (the scene and seed, or the movie, its frame and the model's
/// surprise) above the help line and in the window's title, and prints it when a movie starts.
fn show_status(
    sim: Res<SimState>,
    mut windows: Query<&mut Window>,
    mut texts: Query<&mut Text, With<StatusText>>,
    mut shown: Local<String>,
) {
    let status = sim.status();
    if *shown == status {
        return;
    }
    if sim.movie.as_ref().is_some_and(|m| m.t == 0) {
        println!("{status}");
    }
    for mut window in &mut windows {
        window.title = format!("moravec view: {status}");
    }
    for mut text in &mut texts {
        text.0 = format!("{status}\n{HELP}");
    }
    *shown = status;
}

/// Where the camera renders: the window, or this image.
#[derive(Resource, Clone)]
struct ViewTarget(Option<Handle<Image>>);

/// The scene's background colour (its model camera's).
fn background(spec: &'static moravec_sim::SceneSpec) -> anyhow::Result<Color> {
    let env = spec.make(moravec_sim::camera::DEFAULT_SIZE)?;
    let [r, g, b] = env.camera().background.0;
    Ok(Color::srgb(r, g, b))
}

/// A `width` x `height` sRGB image that a camera can render into and a screenshot can copy.
fn render_target(width: u32, height: u32) -> Image {
    let mut image = Image::new_fill(
        Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        &[0, 0, 0, 255],
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    );
    image.texture_descriptor.usage = TextureUsages::TEXTURE_BINDING
        | TextureUsages::COPY_DST
        | TextureUsages::COPY_SRC
        | TextureUsages::RENDER_ATTACHMENT;
    image
}

/// The 3D camera, where the scene's model camera is, and the model view panel in front of it.
fn setup_camera(
    mut commands: Commands,
    mut sim: ResMut<SimState>,
    target: Res<ViewTarget>,
    mut images: ResMut<Assets<Image>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let sim_camera = sim.env().camera().clone();
    let orbit = Orbit::from_camera(&sim_camera);
    let mut camera = commands.spawn((
        Camera3d::default(),
        Projection::Perspective(PerspectiveProjection {
            fov: sim_camera.fov_y_deg.to_radians(),
            ..default()
        }),
        // Colours as the materials give them: the dataset renderer's.
        Tonemapping::None,
        orbit.transform(),
        orbit,
    ));
    if let Some(image) = &target.0 {
        camera.insert(RenderTarget::Image(image.clone().into()));
    }
    let camera = camera.id();
    commands.spawn((
        Text::new(format!("{}\n{HELP}", sim.status())),
        TextFont::from_font_size(FontSize::Px(14.0)),
        TextColor(Color::WHITE),
        Node {
            position_type: PositionType::Absolute,
            top: Val::Px(6.0),
            left: Val::Px(8.0),
            ..default()
        },
        UiTargetCamera(camera),
        StatusText,
    ));
    if sim.movie.as_ref().is_some_and(|m| m.curve.is_some()) {
        curve_panel::spawn_panel(
            &mut commands,
            camera,
            &mut images,
            &mut meshes,
            &mut materials,
        );
    }
    let size = sim.size;
    model_view::spawn_panel(
        &mut commands,
        camera,
        size,
        &mut images,
        &mut meshes,
        &mut materials,
    );
}

/// Puts the camera back at the model camera's place when the scene changes.
fn follow_scene(
    mut sim: ResMut<SimState>,
    mut cameras: Query<(&mut Orbit, &mut Transform), With<Camera3d>>,
    mut shown: Local<Option<&'static str>>,
    mut clear: ResMut<ClearColor>,
) {
    let name = sim.spec().name;
    if shown.is_none() {
        *shown = Some(name);
        return;
    }
    if *shown == Some(name) {
        return;
    }
    *shown = Some(name);
    let camera = sim.env().camera().clone();
    let [r, g, b] = camera.background.0;
    clear.0 = Color::srgb(r, g, b);
    for (mut orbit, mut transform) in &mut cameras {
        *orbit = Orbit::from_camera(&camera);
        *transform = orbit.transform();
    }
}
