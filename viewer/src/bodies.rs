//! Meshes for the mirrored bodies, made from their collider shapes, in the colours of the
//! dataset renderer (unlit, so that a pixel of the view has the body's own colour).

use bevy::prelude::*;
use moravec_sim::ShapeDesc;

use crate::sim::{BodyLink, SimState};

/// Gives each newly spawned body entity its mesh and material.
pub fn dress_bodies(
    mut commands: Commands,
    mut sim: ResMut<SimState>,
    added: Query<(Entity, &BodyLink), Added<BodyLink>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if added.is_empty() {
        return;
    }
    let world = sim.env().world();
    for (entity, link) in &added {
        let mesh = match world.shape(link.0) {
            ShapeDesc::Ball { radius } => meshes.add(Sphere::new(radius).mesh().uv(32, 18)),
            ShapeDesc::Cuboid { half } => {
                meshes.add(Cuboid::new(2.0 * half[0], 2.0 * half[1], 2.0 * half[2]))
            }
            ShapeDesc::Cylinder {
                half_height,
                radius,
            } => meshes.add(Cylinder::new(radius, 2.0 * half_height)),
        };
        let [r, g, b] = world.color(link.0).0;
        let material = materials.add(StandardMaterial {
            base_color: Color::srgb(r, g, b),
            unlit: true,
            ..default()
        });
        commands
            .entity(entity)
            .insert((Mesh3d(mesh), MeshMaterial3d(material)));
    }
}
