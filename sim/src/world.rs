//! The physics world: Rapier's sets and pipeline behind a small API of our own.
//!
//! Like rapier's own `PhysicsWorld`, it owns every set and steps at a fixed `dt`; unlike it, the
//! whole simulation state lives in one `Clone` struct so that [`World::snapshot`] and
//! [`World::restore`] are exact, and bodies are named by [`BodyId`]s of our own rather than rapier
//! handles, so that callers never depend on rapier's arena layout.

use std::sync::atomic::{AtomicU64, Ordering};

use rapier3d::prelude::*;
use serde::{Deserialize, Serialize};

use crate::color::Rgb;

/// The fixed physics step: 60 Hz.
pub const DT: f32 = 1.0 / 60.0;

/// Standard gravity, m/s^2, pointing down the y axis.
pub const GRAVITY: f32 = 9.81;

/// A body of a [`World`], numbered in insertion order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BodyId(pub u32);

/// How a body moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyKind {
    /// Never moves (floor, platform, table, wall). The renderer caches what it sees of these.
    Fixed,
    /// Moved by forces and contacts.
    Dynamic,
    /// Moved by the velocity we set (pusher, moving screens); pushes dynamic bodies, ignores forces.
    Kinematic,
}

/// A collision shape, in the body's frame. Cylinders stand along the y axis.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ShapeDesc {
    /// A sphere of this radius.
    Ball {
        /// Radius, metres.
        radius: f32,
    },
    /// A box with these half extents.
    Cuboid {
        /// Half extents along x, y, z, metres.
        half: [f32; 3],
    },
    /// An upright cylinder.
    Cylinder {
        /// Half of the height, metres.
        half_height: f32,
        /// Radius, metres.
        radius: f32,
    },
}

impl ShapeDesc {
    /// Half of the shape's extent along y in its own frame: how high its centre sits above a
    /// surface it rests on upright.
    pub fn half_height(&self) -> f32 {
        match *self {
            ShapeDesc::Ball { radius } => radius,
            ShapeDesc::Cuboid { half } => half[1],
            ShapeDesc::Cylinder { half_height, .. } => half_height,
        }
    }

    /// Half of the shape's extent along x in its own frame.
    pub fn half_width(&self) -> f32 {
        match *self {
            ShapeDesc::Ball { radius } | ShapeDesc::Cylinder { radius, .. } => radius,
            ShapeDesc::Cuboid { half } => half[0],
        }
    }

    fn collider(&self) -> ColliderBuilder {
        match *self {
            ShapeDesc::Ball { radius } => ColliderBuilder::ball(radius),
            ShapeDesc::Cuboid { half } => ColliderBuilder::cuboid(half[0], half[1], half[2]),
            ShapeDesc::Cylinder {
                half_height,
                radius,
            } => ColliderBuilder::cylinder(half_height, radius),
        }
    }
}

/// Everything needed to add one body with one collider.
#[derive(Clone, Debug, PartialEq)]
pub struct BodyDesc {
    /// How it moves.
    pub kind: BodyKind,
    /// Its collision (and rendered) shape.
    pub shape: ShapeDesc,
    /// Its colour in the renderer.
    pub color: Rgb,
    /// Initial position of its centre, metres.
    pub position: [f32; 3],
    /// Initial orientation as a scaled axis (axis times angle, radians).
    pub rotation: [f32; 3],
    /// Initial linear velocity, m/s.
    pub linvel: [f32; 3],
    /// Initial angular velocity, rad/s.
    pub angvel: [f32; 3],
    /// Density, kg/m^3 (mass follows from the shape's volume).
    pub density: f32,
    /// Coulomb friction coefficient.
    pub friction: f32,
    /// Restitution (bounciness) coefficient.
    pub restitution: f32,
}

impl BodyDesc {
    /// A body of the given kind and shape at `position`, with neutral material defaults.
    pub fn new(kind: BodyKind, shape: ShapeDesc, position: [f32; 3], color: Rgb) -> Self {
        Self {
            kind,
            shape,
            color,
            position,
            rotation: [0.0; 3],
            linvel: [0.0; 3],
            angvel: [0.0; 3],
            density: 1000.0,
            friction: 0.5,
            restitution: 0.0,
        }
    }
}

/// The full kinematic state of one body, in the dataset's order: position (3), orientation
/// quaternion `x, y, z, w` (4), linear velocity (3), angular velocity (3).
pub type BodyState = [f32; 13];

/// Number of floats in a [`BodyState`].
pub const STATE_DIM: usize = 13;

/// Everything that determines the future of a simulation. Cloning it is a snapshot.
#[derive(Clone)]
struct PhysicsState {
    islands: IslandManager,
    broad_phase: DefaultBroadPhase,
    narrow_phase: NarrowPhase,
    bodies: RigidBodySet,
    colliders: ColliderSet,
    impulse_joints: ImpulseJointSet,
    multibody_joints: MultibodyJointSet,
    soft_bodies: SoftBodySet,
    ccd_solver: CCDSolver,
}

/// Our record of a body: its rapier handles and how it was made.
#[derive(Clone, Debug)]
struct BodyRecord {
    body: RigidBodyHandle,
    collider: ColliderHandle,
    kind: BodyKind,
    shape: ShapeDesc,
}

/// A saved copy of a [`World`]'s whole state; see [`World::restore`].
#[derive(Clone)]
pub struct Snapshot {
    state: PhysicsState,
    records: Vec<BodyRecord>,
    steps: u64,
    static_key: u64,
    groups_used: u32,
}

/// Source of [`World::static_key`] values: every change of the fixed bodies draws a new one, so a
/// key is never reused for different static content, even across worlds.
static NEXT_STATIC_KEY: AtomicU64 = AtomicU64::new(1);

/// A Rapier physics world stepped at a fixed [`DT`].
pub struct World {
    state: PhysicsState,
    /// Solver workspace only: it holds no state that survives a step, so it is not snapshotted.
    pipeline: PhysicsPipeline,
    params: IntegrationParameters,
    gravity: Vector,
    records: Vec<BodyRecord>,
    steps: u64,
    static_key: u64,
    /// Collision-group bits handed out by [`World::ignore_contacts`].
    groups_used: u32,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// An empty world with gravity `(0, -9.81, 0)`.
    pub fn new() -> Self {
        let params = IntegrationParameters {
            dt: DT,
            ..IntegrationParameters::default()
        };
        Self {
            state: PhysicsState {
                islands: IslandManager::new(),
                broad_phase: DefaultBroadPhase::default(),
                narrow_phase: NarrowPhase::new(),
                bodies: RigidBodySet::new(),
                colliders: ColliderSet::new(),
                impulse_joints: ImpulseJointSet::new(),
                multibody_joints: MultibodyJointSet::new(),
                soft_bodies: SoftBodySet::new(),
                ccd_solver: CCDSolver::new(),
            },
            pipeline: PhysicsPipeline::new(),
            params,
            gravity: Vector::new(0.0, -GRAVITY, 0.0),
            records: Vec::new(),
            steps: 0,
            static_key: NEXT_STATIC_KEY.fetch_add(1, Ordering::Relaxed),
            groups_used: 0,
        }
    }

    /// Adds a body with one collider and returns its id.
    pub fn add_body(&mut self, desc: &BodyDesc) -> BodyId {
        let builder = match desc.kind {
            BodyKind::Fixed => RigidBodyBuilder::fixed(),
            BodyKind::Dynamic => RigidBodyBuilder::dynamic(),
            BodyKind::Kinematic => RigidBodyBuilder::kinematic_velocity_based(),
        };
        let body = builder
            .translation(Vector::from_array(desc.position))
            .rotation(Vector::from_array(desc.rotation))
            .linvel(Vector::from_array(desc.linvel))
            .angvel(Vector::from_array(desc.angvel))
            .build();
        let body = self.state.bodies.insert(body);
        let collider = desc
            .shape
            .collider()
            .density(desc.density)
            .friction(desc.friction)
            .restitution(desc.restitution)
            .user_data(desc.color.to_user_data())
            .build();
        let collider =
            self.state
                .colliders
                .insert_with_parent(collider, body, &mut self.state.bodies);
        if desc.kind == BodyKind::Fixed {
            self.static_key = NEXT_STATIC_KEY.fetch_add(1, Ordering::Relaxed);
        }
        let id = BodyId(self.records.len() as u32);
        self.records.push(BodyRecord {
            body,
            collider,
            kind: desc.kind,
            shape: desc.shape,
        });
        id
    }

    /// Advances the simulation by one [`DT`].
    pub fn step(&mut self) {
        let s = &mut self.state;
        self.pipeline.step(
            self.gravity,
            &self.params,
            &mut s.islands,
            &mut s.broad_phase,
            &mut s.narrow_phase,
            &mut s.bodies,
            &mut s.colliders,
            &mut s.impulse_joints,
            &mut s.multibody_joints,
            &mut s.soft_bodies,
            &mut s.ccd_solver,
            &(),
            &(),
        );
        self.steps += 1;
    }

    /// Number of [`World::step`] calls since the world was made (restored with a snapshot).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Simulated time in seconds.
    pub fn time(&self) -> f32 {
        self.steps as f32 * DT
    }

    /// Number of bodies.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the world has no bodies.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The ids of every body, in insertion order.
    pub fn body_ids(&self) -> impl Iterator<Item = BodyId> + '_ {
        (0..self.records.len() as u32).map(BodyId)
    }

    /// How the body moves.
    pub fn kind(&self, id: BodyId) -> BodyKind {
        self.record(id).kind
    }

    /// The body's shape.
    pub fn shape(&self, id: BodyId) -> ShapeDesc {
        self.record(id).shape
    }

    /// The body's colour.
    pub fn color(&self, id: BodyId) -> Rgb {
        Rgb::from_user_data(self.state.colliders[self.record(id).collider].user_data)
    }

    /// Position of the body's centre.
    pub fn position(&self, id: BodyId) -> [f32; 3] {
        self.rb(id).translation().to_array()
    }

    /// The body's axis-aligned bounding box, `(mins, maxs)`.
    pub fn aabb(&self, id: BodyId) -> ([f32; 3], [f32; 3]) {
        let aabb = self.state.colliders[self.record(id).collider].compute_aabb();
        (aabb.mins.to_array(), aabb.maxs.to_array())
    }

    /// Angular velocity of the body.
    pub fn angvel(&self, id: BodyId) -> [f32; 3] {
        self.rb(id).angvel().to_array()
    }

    /// Linear velocity of the body.
    pub fn linvel(&self, id: BodyId) -> [f32; 3] {
        self.rb(id).linvel().to_array()
    }

    /// The full state of one body (see [`BodyState`]).
    pub fn body_state(&self, id: BodyId) -> BodyState {
        let rb = self.rb(id);
        let p = rb.translation();
        let q = rb.rotation();
        let v = rb.linvel();
        let w = rb.angvel();
        [
            p.x, p.y, p.z, q.x, q.y, q.z, q.w, v.x, v.y, v.z, w.x, w.y, w.z,
        ]
    }

    /// Sets the velocity of a kinematic (or dynamic) body.
    pub fn set_linvel(&mut self, id: BodyId, v: [f32; 3]) {
        let handle = self.record(id).body;
        self.state.bodies[handle].set_linvel(Vector::from_array(v), true);
    }

    /// Sets the angular velocity of a body.
    pub fn set_angvel(&mut self, id: BodyId, w: [f32; 3]) {
        let handle = self.record(id).body;
        self.state.bodies[handle].set_angvel(Vector::from_array(w), true);
    }

    /// Puts a body at a pose (`[x, y, z]` then the quaternion `[x, y, z, w]`, as
    /// [`World::body_state`] gives them) and its collider with it, without stepping: the VoE
    /// suite shows one world's bodies moving as another world's did, by posing them frame by
    /// frame, so the renderer sees exactly the recorded poses.
    pub fn set_pose(&mut self, id: BodyId, pose: [f32; 7]) {
        let record = self.record(id);
        let (handle, collider) = (record.body, record.collider);
        let pose = Pose::from_parts(
            Vector::new(pose[0], pose[1], pose[2]),
            Rotation::from_xyzw(pose[3], pose[4], pose[5], pose[6]),
        );
        let rb = &mut self.state.bodies[handle];
        rb.set_position(pose, false);
        let placed = *rb.position();
        let c = &mut self.state.colliders[collider];
        let local = c.position_wrt_parent().copied().unwrap_or_default();
        c.set_position(placed * local);
    }

    /// Scales the gravity a body feels (0 switches it off for that body alone).
    pub fn set_gravity_scale(&mut self, id: BodyId, scale: f32) {
        let handle = self.record(id).body;
        self.state.bodies[handle].set_gravity_scale(scale, true);
    }

    /// Turns a dynamic body kinematic: from now on it keeps its velocity whatever hits it.
    pub fn make_kinematic(&mut self, id: BodyId) {
        let handle = self.record(id).body;
        self.state.bodies[handle].set_body_type(RigidBodyType::KinematicVelocityBased, true);
        self.records[id.0 as usize].kind = BodyKind::Kinematic;
    }

    /// Makes two bodies pass through each other from now on (each keeps touching everything else).
    ///
    /// `b` moves to a collision group of its own, and `a` stops colliding with that group. At most
    /// 31 such calls per world.
    pub fn ignore_contacts(&mut self, a: BodyId, b: BodyId) {
        self.groups_used += 1;
        assert!(
            self.groups_used < 32,
            "ignore_contacts: more than 31 calls on one world"
        );
        let bit = Group::from_bits_truncate(1 << self.groups_used);
        let (ca, cb) = (self.record(a).collider, self.record(b).collider);
        let ga = self.state.colliders[ca].collision_groups();
        self.state.colliders[ca].set_collision_groups(InteractionGroups::new(
            ga.memberships,
            ga.filter.difference(bit),
            ga.test_mode,
        ));
        let gb = self.state.colliders[cb].collision_groups();
        self.state.colliders[cb].set_collision_groups(InteractionGroups::new(
            bit,
            gb.filter,
            gb.test_mode,
        ));
    }

    /// Whether two bodies touch (have an active contact) after the last step.
    pub fn in_contact(&self, a: BodyId, b: BodyId) -> bool {
        let (ca, cb) = (self.record(a).collider, self.record(b).collider);
        self.state
            .narrow_phase
            .contact_pair(ca, cb)
            .is_some_and(|pair| pair.has_any_active_contact())
    }

    /// A copy of the whole simulation state. Stepping after [`World::restore`] gives the same bits
    /// as stepping from the moment it was taken.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state.clone(),
            records: self.records.clone(),
            steps: self.steps,
            static_key: self.static_key,
            groups_used: self.groups_used,
        }
    }

    /// Puts the world back in the state of `snapshot`.
    pub fn restore(&mut self, snapshot: &Snapshot) {
        self.state = snapshot.state.clone();
        self.records = snapshot.records.clone();
        self.steps = snapshot.steps;
        self.static_key = snapshot.static_key;
        self.groups_used = snapshot.groups_used;
    }

    /// Changes whenever the set of fixed bodies changes; two worlds with the same key have the
    /// same fixed bodies. The renderer uses it to cache the static part of the picture.
    pub fn static_key(&self) -> u64 {
        self.static_key
    }

    /// Every collider with its kind, for the renderer.
    pub(crate) fn colliders(&self) -> impl Iterator<Item = (BodyId, BodyKind, &Collider)> + '_ {
        self.records
            .iter()
            .enumerate()
            .map(|(i, r)| (BodyId(i as u32), r.kind, &self.state.colliders[r.collider]))
    }

    /// Rapier's query pipeline over every collider: the reference path for ray casts.
    pub fn query_pipeline(&self) -> QueryPipeline<'_> {
        self.state.broad_phase.as_query_pipeline(
            self.state.narrow_phase.query_dispatcher(),
            &self.state.bodies,
            &self.state.colliders,
            QueryFilter::default(),
        )
    }

    /// The collider with this rapier handle, if it belongs to this world.
    pub(crate) fn collider_by_handle(&self, handle: ColliderHandle) -> Option<&Collider> {
        self.state.colliders.get(handle)
    }

    /// The body whose collider has this handle.
    pub fn body_of_collider(&self, handle: ColliderHandle) -> Option<BodyId> {
        self.records
            .iter()
            .position(|r| r.collider == handle)
            .map(|i| BodyId(i as u32))
    }

    fn record(&self, id: BodyId) -> &BodyRecord {
        &self.records[id.0 as usize]
    }

    fn rb(&self, id: BodyId) -> &RigidBody {
        &self.state.bodies[self.record(id).body]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn falling_world() -> (World, BodyId) {
        let mut w = World::new();
        let floor = BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Cuboid {
                half: [5.0, 0.5, 5.0],
            },
            [0.0, -0.5, 0.0],
            Rgb::new(0.5, 0.5, 0.5),
        );
        w.add_body(&floor);
        let mut ball = BodyDesc::new(
            BodyKind::Dynamic,
            ShapeDesc::Ball { radius: 0.2 },
            [0.0, 1.0, 0.0],
            Rgb::new(1.0, 0.0, 0.0),
        );
        ball.linvel = [0.7, 0.0, -0.3];
        ball.restitution = 0.4;
        let id = w.add_body(&ball);
        let mut boxy = BodyDesc::new(
            BodyKind::Dynamic,
            ShapeDesc::Cuboid {
                half: [0.2, 0.1, 0.15],
            },
            [0.5, 0.5, 0.0],
            Rgb::new(0.0, 1.0, 0.0),
        );
        boxy.angvel = [1.0, 2.0, 0.5];
        w.add_body(&boxy);
        (w, id)
    }

    fn bits(w: &World) -> Vec<u32> {
        w.body_ids()
            .flat_map(|id| w.body_state(id))
            .map(f32::to_bits)
            .collect()
    }

    #[test]
    fn stepping_after_restore_gives_the_same_bits() {
        let (mut w, _) = falling_world();
        for _ in 0..20 {
            w.step();
        }
        let snap = w.snapshot();
        for _ in 0..60 {
            w.step();
        }
        let straight = bits(&w);
        // Disturb the world, then go back and step again.
        w.set_linvel(BodyId(1), [5.0, 5.0, 5.0]);
        for _ in 0..7 {
            w.step();
        }
        w.restore(&snap);
        assert_eq!(w.steps(), 20);
        for _ in 0..60 {
            w.step();
        }
        assert_eq!(bits(&w), straight);
    }

    #[test]
    fn bodies_fall_from_the_first_step() {
        let (mut w, ball) = falling_world();
        let y0 = w.position(ball)[1];
        w.step();
        assert!(w.position(ball)[1] < y0, "the ball did not fall on step 1");
    }

    #[test]
    fn colour_survives_user_data() {
        let c = Rgb::new(0.25, 0.5, 0.875);
        assert_eq!(Rgb::from_user_data(c.to_user_data()), c);
    }

    #[test]
    fn static_key_changes_only_with_fixed_bodies() {
        let (mut w, _) = falling_world();
        let k = w.static_key();
        w.add_body(&BodyDesc::new(
            BodyKind::Dynamic,
            ShapeDesc::Ball { radius: 0.1 },
            [0.0, 2.0, 0.0],
            Rgb::new(1.0, 1.0, 1.0),
        ));
        assert_eq!(w.static_key(), k);
        w.add_body(&BodyDesc::new(
            BodyKind::Fixed,
            ShapeDesc::Ball { radius: 0.1 },
            [3.0, 2.0, 0.0],
            Rgb::new(1.0, 1.0, 1.0),
        ));
        assert_ne!(w.static_key(), k);
    }
}
