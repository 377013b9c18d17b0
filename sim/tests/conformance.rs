//! The environment contract, checked on every scene of the registry.

use moravec_sim::{Environment, Observation, SCENES, SimError};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// An observation as raw bits: frame bytes and each slot's state bits.
type ObsBits = (Vec<u8>, Vec<Option<Vec<u32>>>);

fn obs_bits(obs: &Observation) -> ObsBits {
    (
        obs.frame.data.clone(),
        obs.states
            .iter()
            .map(|s| s.map(|s| s.iter().map(|v| v.to_bits()).collect()))
            .collect(),
    )
}

fn random_action(env: &dyn Environment, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let space = env.action_space();
    (0..space.dim())
        .map(|i| rng.random_range(space.low[i]..=space.high[i]))
        .collect()
}

/// Resets with `seed` and steps `n` random actions drawn from `action_seed`; returns every
/// observation's bits.
fn rollout(env: &mut dyn Environment, seed: u64, action_seed: u64, n: usize) -> Vec<ObsBits> {
    let mut rng = ChaCha8Rng::seed_from_u64(action_seed);
    let mut out = vec![obs_bits(&env.reset(seed))];
    for _ in 0..n {
        let a = random_action(env, &mut rng);
        out.push(obs_bits(&env.step(&a).unwrap().obs));
    }
    out
}

#[test]
fn spaces_are_declared_and_observations_lie_inside_them() {
    for spec in SCENES {
        let mut env = spec.make(32).unwrap();
        let space = env.observation_space().clone();
        assert_eq!(env.action_space().dim(), spec.action_dim, "{}", spec.name);
        assert_eq!(space.slots, spec.slots, "{}", spec.name);
        assert_eq!((space.width, space.height), (32, 32), "{}", spec.name);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for seed in 0..6 {
            let obs = env.reset(seed);
            assert!(
                space.contains(&obs),
                "{} seed {seed}: reset observation outside",
                spec.name
            );
            assert!(
                obs.states.iter().any(Option::is_some),
                "{}: no body",
                spec.name
            );
            for t in 0..90 {
                let a = random_action(env.as_ref(), &mut rng);
                assert!(env.action_space().contains(&a));
                let step = env.step(&a).unwrap();
                assert!(
                    space.contains(&step.obs),
                    "{} seed {seed} step {t}: outside",
                    spec.name
                );
                assert!(step.reward.is_finite());
            }
        }
    }
}

#[test]
fn reset_is_deterministic_per_seed_and_differs_across_seeds() {
    for spec in SCENES {
        let mut env = spec.make(32).unwrap();
        let a = obs_bits(&env.reset(3));
        let b = obs_bits(&env.reset(3));
        let c = obs_bits(&env.reset(4));
        assert_eq!(a, b, "{}: reset(3) twice", spec.name);
        assert_ne!(a, c, "{}: reset(3) and reset(4) agree", spec.name);
    }
}

#[test]
fn stepping_is_deterministic() {
    for spec in SCENES {
        let mut env = spec.make(32).unwrap();
        let first = rollout(env.as_mut(), 9, 1, 40);
        let mut other = spec.make(32).unwrap();
        let _ = rollout(other.as_mut(), 2, 7, 13); // a different history first
        let second = rollout(other.as_mut(), 9, 1, 40);
        assert_eq!(first, second, "{}", spec.name);
    }
}

#[test]
fn truncation_comes_at_max_steps() {
    for spec in SCENES {
        let mut env = spec.make(16).unwrap();
        env.reset(0);
        let a = vec![0.0; spec.action_dim];
        for t in 1..=spec.max_steps {
            let step = env.step(&a).unwrap();
            assert_eq!(
                step.truncated,
                t == spec.max_steps,
                "{} step {t}",
                spec.name
            );
        }
    }
}

#[test]
fn bad_actions_are_refused_with_the_reason() {
    for spec in SCENES {
        let mut env = spec.make(16).unwrap();
        env.reset(0);
        let long = vec![0.0; spec.action_dim + 1];
        let err = env.step(&long).unwrap_err();
        assert!(matches!(err, SimError::InvalidAction { .. }), "{err}");
        assert!(err.to_string().contains(spec.name), "{err}");
        if spec.action_dim > 0 {
            let mut nan = vec![0.0; spec.action_dim];
            nan[0] = f32::NAN;
            assert!(env.step(&nan).is_err());
            // Out-of-range actions are clamped, not refused.
            let big = vec![1e6; spec.action_dim];
            assert!(env.step(&big).is_ok());
        }
    }
}
