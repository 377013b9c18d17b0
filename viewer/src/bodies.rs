//! Meshes for the mirrored bodies, made from their collider shapes, in the colours of the
//! dataset renderer (unlit, so that a pixel of the view has the body's own colour).

use bevy::prelude::*;
use moravec_sim::{Rgb, ShapeDesc};

use crate::movie::MovieBodyLink;
use crate::world_state::{BodyLink, SimState};

/// Gives each newly spawned body entity (of the live world or of a recorded movie) its mesh and
/// material.
pub fn dress_bodies(
    mut commands: Commands,
    mut sim: ResMut<SimState>,
    live: Query<(Entity, &BodyLink), Added<BodyLink>>,
    recorded: Query<(Entity, &MovieBodyLink), Added<MovieBodyLink>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let mut dress = |entity: Entity, shape: ShapeDesc, color: Rgb| {
        let mesh = match shape {
            ShapeDesc::Ball { radius } => meshes.add(Sphere::new(radius).mesh().uv(32, 18)),
            ShapeDesc::Cuboid { half } => {
                meshes.add(Cuboid::new(2.0 * half[0], 2.0 * half[1], 2.0 * half[2]))
            }
            ShapeDesc::Cylinder {
                half_height,
                radius,
            } => meshes.add(Cylinder::new(radius, 2.0 * half_height)),
        };
        let [r, g, b] = color.0;
        let material = materials.add(StandardMaterial {
            base_color: Color::srgb(r, g, b),
            unlit: true,
            ..default()
        });
        commands
            .entity(entity)
            .insert((Mesh3d(mesh), MeshMaterial3d(material)));
    };
    if let Some(movie) = &sim.movie {
        let bodies = movie.bodies.all();
        for (entity, link) in &recorded {
            if let Some(b) = bodies.get(link.0) {
                dress(entity, b.shape, b.color);
            }
        }
    }
    if !live.is_empty() {
        let world = sim.env().world();
        for (entity, link) in &live {
            dress(entity, world.shape(link.0), world.color(link.0));
        }
    }
}
