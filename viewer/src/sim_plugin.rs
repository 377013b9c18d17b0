//! The viewer's logic as a bevy plugin, without rendering: the keyboard, one step of the world
//! per frame, and every body (of the live world or of the movie played) mirrored into an
//! entity's `Transform`.

use bevy::prelude::*;
use moravec_sim::{BodyId, SceneSpec};

use crate::controls;
use crate::movie::{Movie, MovieBodyLink};
use crate::variants::Variants;
use crate::world_state::{BodyLink, SimState};

/// The stepping and mirroring systems: what shows the world runs after them.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SimSet;

/// The logic of the viewer, without rendering: stepping, mirroring, controls.
pub struct SimPlugin {
    /// The scene to start with.
    pub spec: &'static SceneSpec,
    /// Its seed.
    pub seed: u64,
    /// Side of the model camera's image.
    pub size: usize,
}

impl Plugin for SimPlugin {
    fn build(&self, app: &mut App) {
        let state = SimState::new(self.spec, self.seed, self.size)
            .expect("the scene and size were checked when the arguments were read");
        app.insert_resource(state)
            .init_resource::<ButtonInput<KeyCode>>()
            .init_resource::<Variants>()
            .add_systems(
                Update,
                (
                    controls::keyboard,
                    step,
                    respawn_bodies,
                    mirror_poses,
                    mirror_movie_bodies,
                )
                    .chain()
                    .in_set(SimSet),
            );
    }
}

/// Steps the physics once per frame unless paused.
fn step(mut sim: ResMut<SimState>) {
    if sim.take_fresh() {
        return;
    }
    if sim.paused && !sim.step_once {
        return;
    }
    sim.step_once = false;
    if let Err(e) = sim.step() {
        error!("step failed: {e}");
        sim.paused = true;
    }
}

/// Entities that show a body: of the live world, or of a movie.
type Linked = Or<(With<BodyLink>, With<MovieBodyLink>)>;

/// Gives every body of a newly built world an entity (and removes the old world's).
fn respawn_bodies(
    mut commands: Commands,
    mut sim: ResMut<SimState>,
    linked: Query<Entity, Linked>,
    mut built: Local<Option<u64>>,
) {
    if *built == Some(sim.generation) {
        return;
    }
    for entity in &linked {
        commands.entity(entity).despawn();
    }
    *built = Some(sim.generation);
    if let Some(movie) = &sim.movie {
        for i in 0..movie.bodies.all().len() {
            let (transform, visibility) = movie_body_pose(movie, i);
            commands.spawn((MovieBodyLink(i), transform, visibility));
        }
        return;
    }
    let world = sim.env().world();
    for id in world.body_ids() {
        commands.spawn((BodyLink(id), pose(world, id)));
    }
}

/// The `Transform` of body `id`: its position and orientation in the world.
pub fn pose(world: &moravec_sim::World, id: BodyId) -> Transform {
    let s = world.body_state(id);
    Transform::from_translation(Vec3::new(s[0], s[1], s[2]))
        .with_rotation(Quat::from_xyzw(s[3], s[4], s[5], s[6]))
}

/// Copies every body's pose into its entity.
fn mirror_poses(mut sim: ResMut<SimState>, mut bodies: Query<(&BodyLink, &mut Transform)>) {
    let world = sim.env().world();
    for (link, mut transform) in &mut bodies {
        *transform = pose(world, link.0);
    }
}

/// Where body `i` of `movie` is in the frame shown, and whether it is in that frame.
pub fn movie_body_pose(movie: &Movie, i: usize) -> (Transform, Visibility) {
    match movie.bodies.pose(movie.t, i) {
        Some(p) => (
            Transform::from_translation(Vec3::new(p[0], p[1], p[2]))
                .with_rotation(Quat::from_xyzw(p[3], p[4], p[5], p[6])),
            Visibility::Inherited,
        ),
        None => (Transform::default(), Visibility::Hidden),
    }
}

/// Poses the movie's bodies for the frame shown.
fn mirror_movie_bodies(
    sim: Res<SimState>,
    mut bodies: Query<(&MovieBodyLink, &mut Transform, &mut Visibility)>,
) {
    let Some(movie) = &sim.movie else { return };
    for (link, mut transform, mut visibility) in &mut bodies {
        (*transform, *visibility) = movie_body_pose(movie, link.0);
    }
}
