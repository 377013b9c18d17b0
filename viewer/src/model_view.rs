//! The model camera's view: the frame `sim` renders for the datasets (64 x 64 by default),
//! live, scaled up on a panel in the corner of the 3D view.

use bevy::asset::RenderAssetUsages;
use bevy::image::ImageSampler;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};

use crate::world_state::SimState;

/// The image the panel shows.
#[derive(Resource)]
pub struct ModelView {
    /// The image asset, updated after every step.
    pub image: Handle<Image>,
}

/// Marks the panel.
#[derive(Component)]
pub struct ModelPanel;

/// An empty `size` x `size` image sampled without smoothing (pixels stay square).
pub fn blank(size: usize) -> Image {
    blank_rect(size, size)
}

/// An empty `width` x `height` image sampled without smoothing.
pub fn blank_rect(width: usize, height: usize) -> Image {
    let mut image = Image::new_fill(
        Extent3d {
            width: width as u32,
            height: height as u32,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        &[0, 0, 0, 255],
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    );
    image.sampler = ImageSampler::nearest();
    image
}

/// Creates the image and the panel in front of `camera`, in its lower right corner.
pub fn spawn_panel(
    commands: &mut Commands,
    camera: Entity,
    size: usize,
    images: &mut Assets<Image>,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
) {
    let image = images.add(blank(size));
    let material = materials.add(StandardMaterial {
        base_color_texture: Some(image.clone()),
        unlit: true,
        ..default()
    });
    // At one metre in front of a camera with a 50 degree vertical field of view the image is
    // about 0.93 m high: a 0.28 m panel near the corner.
    let panel = commands
        .spawn((
            ModelPanel,
            Mesh3d(meshes.add(Rectangle::new(0.28, 0.28))),
            MeshMaterial3d(material),
            Transform::from_xyz(0.42, -0.28, -1.0),
        ))
        .id();
    commands.entity(camera).add_child(panel);
    commands.insert_resource(ModelView { image });
}

/// Copies the latest model frame into the panel's image.
pub fn update_image(
    sim: Res<SimState>,
    view: Option<Res<ModelView>>,
    mut images: ResMut<Assets<Image>>,
    mut shown: Local<Option<(u64, u64)>>,
) {
    let Some(view) = view else { return };
    let key = (sim.generation, sim.frames);
    if *shown == Some(key) {
        return;
    }
    *shown = Some(key);
    let frame = &sim.frame;
    let Some(mut image) = images.get_mut(&view.image) else {
        return;
    };
    if image.width() as usize != frame.width || image.height() as usize != frame.height {
        *image = blank(frame.width);
    }
    let rgba: Vec<u8> = frame
        .data
        .chunks(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    image.data = Some(rgba);
}
