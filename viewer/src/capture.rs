//! Ending a run after a number of frames, optionally writing a screenshot of the view first:
//! the headless mode renders into an image with no display at all.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};

/// How long to wait for a requested screenshot before giving up, in frames.
const PATIENCE: u32 = 600;

/// What to capture and when to stop.
#[derive(Resource, Debug)]
pub struct Capture {
    /// Frames to run before the screenshot (or before exiting).
    pub frames: u32,
    /// Where the PNG goes, if a screenshot is wanted.
    pub path: Option<PathBuf>,
    /// The headless image the camera renders into; `None` for the window.
    pub image: Option<Handle<Image>>,
    /// Frames run so far.
    pub count: u32,
    /// The screenshot has been written.
    pub saved: bool,
}

/// Counts frames, asks for the screenshot, and exits when it is written (or at once without
/// one). Exits with an error if no screenshot arrives.
pub fn capture(
    mut commands: Commands,
    mut capture: ResMut<Capture>,
    mut exit: MessageWriter<AppExit>,
) {
    capture.count += 1;
    if capture.saved {
        exit.write(AppExit::Success);
        return;
    }
    if capture.count == capture.frames {
        let Some(path) = capture.path.clone() else {
            exit.write(AppExit::Success);
            return;
        };
        let shot = match &capture.image {
            Some(image) => Screenshot::image(image.clone()),
            None => Screenshot::primary_window(),
        };
        let mut save = save_to_disk(path);
        commands.spawn(shot).observe(
            move |captured: On<ScreenshotCaptured>, mut capture: ResMut<Capture>| {
                save(captured);
                capture.saved = true;
            },
        );
    }
    if capture.count > capture.frames + PATIENCE {
        error!("no screenshot arrived {PATIENCE} frames after it was requested");
        exit.write(AppExit::error());
    }
}
