//! The curve panel: the picture of the movie's surprise curve ([`draw`]) on a panel along
//! the bottom of the 3D view, redrawn as the movie plays.

use bevy::prelude::*;

use crate::curve::{HEIGHT, WIDTH, draw};
use crate::model_view;
use crate::world_state::SimState;

/// The image the curve panel shows.
#[derive(Resource)]
pub struct CurveView {
    /// The image asset, redrawn when the frame shown changes.
    pub image: Handle<Image>,
}

/// Creates the curve panel in front of `camera`, along its bottom edge on the left.
pub fn spawn_panel(
    commands: &mut Commands,
    camera: Entity,
    images: &mut Assets<Image>,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
) {
    let image = images.add(model_view::blank_rect(WIDTH, HEIGHT));
    let material = materials.add(StandardMaterial {
        base_color_texture: Some(image.clone()),
        unlit: true,
        ..default()
    });
    let (w, h) = (0.56, 0.56 * HEIGHT as f32 / WIDTH as f32);
    let panel = commands
        .spawn((
            Mesh3d(meshes.add(Rectangle::new(w, h))),
            MeshMaterial3d(material),
            Transform::from_xyz(-0.3, -0.3, -1.0),
        ))
        .id();
    commands.entity(camera).add_child(panel);
    commands.insert_resource(CurveView { image });
}

/// Redraws the curve when the frame shown changes.
pub fn update_image(
    sim: Res<SimState>,
    view: Option<Res<CurveView>>,
    mut images: ResMut<Assets<Image>>,
    mut shown: Local<Option<(u64, usize)>>,
) {
    let Some(view) = view else { return };
    let Some(movie) = &sim.movie else { return };
    let Some(curve) = &movie.curve else { return };
    let key = (sim.generation, movie.t);
    if *shown == Some(key) {
        return;
    }
    *shown = Some(key);
    if let Some(mut image) = images.get_mut(&view.image) {
        image.data = Some(draw(curve, movie.len, movie.violation, movie.t));
    }
}
