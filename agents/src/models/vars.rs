//! A model together with its variables: what training updates and what a checkpoint fills.
//!
//! Building and loading share this one constructor, so that a model read back from a
//! checkpoint has exactly the variables (and the EMA pairs) of the model that was trained;
//! loading needs neither an optimiser nor a dataset, only the model's name, its config and the
//! weights.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};

use super::{ModelConfig, WorldModel, find};
use crate::error::{AgentError, Result};

/// A built model with its variables.
pub struct ModelVars {
    /// The model.
    pub model: Box<dyn WorldModel>,
    /// Its architecture.
    pub config: ModelConfig,
    /// Its variables, by name.
    pub varmap: VarMap,
    /// (target, online) variable pairs of an EMA target encoder, in name order.
    pub ema: Vec<(Var, Var)>,
}

impl ModelVars {
    /// The model `name` of architecture `config` with freshly made (not yet initialised)
    /// variables on `device`.
    pub fn new(name: &str, config: &ModelConfig, device: &Device) -> Result<Self> {
        let spec = find(name)?;
        config.validate()?;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let model = (spec.build)(config, vb)?;
        let mut ema = Vec::new();
        if let Some((target, online)) = model.ema_prefixes() {
            let data = varmap.data().lock().expect("varmap lock");
            let mut names: Vec<&String> = data.keys().filter(|k| k.starts_with(target)).collect();
            names.sort();
            for name in names {
                let twin = format!("{online}{}", &name[target.len()..]);
                if let Some(o) = data.get(&twin) {
                    ema.push((data[name].clone(), o.clone()));
                }
            }
        }
        Ok(Self {
            model,
            config: config.clone(),
            varmap,
            ema,
        })
    }

    /// Number of trained parameters (an EMA target's copies not counted).
    pub fn parameters(&self) -> usize {
        let total: usize = self.varmap.all_vars().iter().map(|v| v.elem_count()).sum();
        let ema: usize = self.ema.iter().map(|(t, _)| t.elem_count()).sum();
        total - ema
    }
}

/// The model `name` of architecture `config` with `weights` (every variable by name, of its
/// shape). A variable the weights lack, or one of another shape, is an error naming it; `source`
/// names where the weights came from in that error.
pub fn load(
    name: &str,
    config: &ModelConfig,
    weights: &HashMap<String, Tensor>,
    device: &Device,
    source: &std::path::Path,
) -> Result<ModelVars> {
    let vars = ModelVars::new(name, config, device)?;
    {
        let data = vars.varmap.data().lock().expect("varmap lock");
        for (var_name, var) in data.iter() {
            let w = weights
                .get(var_name)
                .ok_or_else(|| AgentError::BadCheckpoint {
                    path: source.to_owned(),
                    reason: format!("no weights for the variable {var_name} of {name}"),
                })?;
            if w.dims() != var.dims() {
                return Err(AgentError::BadCheckpoint {
                    path: source.to_owned(),
                    reason: format!(
                        "{var_name} is {:?} in the file, {:?} in {name}",
                        w.dims(),
                        var.dims()
                    ),
                });
            }
            var.set(&w.to_device(device)?)?;
        }
    }
    Ok(vars)
}
