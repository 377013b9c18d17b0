//! The 3D view's camera: it starts where the scene's model camera is and orbits its target
//! with the mouse (left drag turns, the wheel zooms).

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll};
use bevy::prelude::*;
use moravec_sim::Camera as SimCamera;

/// Spherical coordinates of the camera around its target.
#[derive(Component, Clone, Copy, Debug)]
pub struct Orbit {
    /// The point looked at.
    pub target: Vec3,
    /// Angle about the vertical axis, radians (0: on the +z side).
    pub yaw: f32,
    /// Elevation, radians.
    pub pitch: f32,
    /// Distance from the target, metres.
    pub distance: f32,
}

impl Orbit {
    /// The orbit that puts the camera at the model camera's eye.
    pub fn from_camera(camera: &SimCamera) -> Self {
        let target = Vec3::from_array(camera.target);
        let offset = Vec3::from_array(camera.eye) - target;
        let distance = offset.length().max(1e-3);
        Self {
            target,
            yaw: offset.x.atan2(offset.z),
            pitch: (offset.y / distance).clamp(-1.0, 1.0).asin(),
            distance,
        }
    }

    /// The camera's transform.
    pub fn transform(&self) -> Transform {
        let dir = Vec3::new(
            self.pitch.cos() * self.yaw.sin(),
            self.pitch.sin(),
            self.pitch.cos() * self.yaw.cos(),
        );
        Transform::from_translation(self.target + dir * self.distance)
            .looking_at(self.target, Vec3::Y)
    }
}

/// Turns and zooms the camera from the mouse.
pub fn orbit(
    buttons: Option<Res<ButtonInput<MouseButton>>>,
    motion: Option<Res<AccumulatedMouseMotion>>,
    scroll: Option<Res<AccumulatedMouseScroll>>,
    mut cameras: Query<(&mut Orbit, &mut Transform)>,
) {
    let drag = match (buttons, motion) {
        (Some(b), Some(m)) if b.pressed(MouseButton::Left) => m.delta,
        _ => Vec2::ZERO,
    };
    let wheel = scroll.map(|s| s.delta.y).unwrap_or(0.0);
    if drag == Vec2::ZERO && wheel == 0.0 {
        return;
    }
    for (mut orbit, mut transform) in &mut cameras {
        orbit.yaw -= drag.x * 0.005;
        orbit.pitch = (orbit.pitch + drag.y * 0.005).clamp(-1.5, 1.5);
        orbit.distance = (orbit.distance * (1.0 - 0.1 * wheel)).clamp(0.3, 30.0);
        *transform = orbit.transform();
    }
}
