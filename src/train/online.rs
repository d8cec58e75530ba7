//! Learning as a person labels: after every label, a few Adam steps of the head alone on the
//! backbone features of every sample, each computed once, when its sample first comes (and on
//! MNIST digits while adapting the digits, so that the others are kept). An update costs
//! milliseconds, so the page runs one after every drawing; the CLI replays a samples file
//! through the same learner (`finetune --online`).

use std::collections::HashMap;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use super::fit::dropout_mask;
use super::predict::{cross_entropy, read};
use burn::tensor::activation::softmax;

use super::{TrainError, argmax, check_labels, draw_rehearsal, images_tensor, labels_tensor};
use crate::data::Sample;
use crate::model::Classifier;

/// How each update trains. The defaults were chosen on digits labelled one at a time, five a
/// class (`tests/online.rs`), against one *Fine-tune* with the defaults on the same samples:
/// on typeset digits, which the network knows, no step is taken and nothing is forgotten; on
/// MNIST digits written transposed it reaches 0.67 where the fine-tune reaches 0.34, and
/// forgets 4.2 points of MNIST where the fine-tune forgets 2.0 (transposed digits contradict
/// MNIST). A fixed 10 or 20 steps an update, whatever the samples, forgot 0.2 to 1.2 points
/// on typeset digits and needed six labels to turn a confident 1 into a 7.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnlineConfig {
    /// Adam steps an update takes at most: it stops as soon as every one of the person's
    /// samples in a step has at least `sure` probability for its label.
    pub steps: usize,
    pub sure: f32,
    /// The person's samples in a step: the new ones, then others at random (all when fewer).
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// MNIST digits mixed into every step while adapting the digits (none for a new task).
    pub rehearsal: usize,
    pub seed: u64,
}

impl Default for OnlineConfig {
    fn default() -> Self {
        OnlineConfig {
            steps: 100,
            sure: 0.8,
            batch_size: 8,
            learning_rate: 1e-3,
            weight_decay: 0.0,
            rehearsal: 16,
            seed: 1,
        }
    }
}

/// What one update did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Learned {
    /// The samples learnt from (all the person has labelled).
    pub samples: usize,
    /// Samples this learner had not seen before this update.
    pub new: usize,
    /// Of those, how many the network already predicted as labelled before it learnt them.
    pub recognised: usize,
    /// The last step's training loss.
    pub loss: f32,
    /// Adam steps taken (none when every sample was already learnt).
    pub steps: usize,
    pub seconds: f64,
}

/// The network as it learns from labels, one update at a time. Its backbone never changes;
/// the head continues from wherever the last update (or the model it was given) left it.
pub struct OnlineLearner {
    model: Classifier,
    config: OnlineConfig,
    /// Each sample's backbone features, by its id.
    known: HashMap<String, Vec<f32>>,
    /// Rehearsal digits: their features `[n, features]` and labels, computed at the first
    /// update that needs them.
    source: Vec<Sample>,
    source_features: Option<(Tensor<2>, Vec<usize>)>,
    /// Adam and its moments, kept from update to update: a fresh Adam's first steps are a
    /// full learning rate in the sign of whatever gradient there is, even on samples already
    /// learnt, which over many updates walks the head away from the digits it knew.
    adam: ModuleOptimizer,
    rng: StdRng,
    device: Device,
}

impl OnlineLearner {
    /// A learner starting from `model` (the pretrained network while adapting the digits, or
    /// one with a new head). `source`: MNIST digits rehearsed while adapting (may be empty).
    pub fn new(
        model: &Classifier,
        config: OnlineConfig,
        source: &[Sample],
        device: &Device,
    ) -> Result<Self, TrainError> {
        let source = if config.rehearsal > 0 {
            source.to_vec()
        } else {
            Vec::new()
        };
        check_labels(&source, model.classes())?;
        let adam = AdamConfig::new()
            .with_weight_decay(
                (config.weight_decay > 0.0)
                    .then(|| WeightDecayConfig::new(config.weight_decay as f32)),
            )
            .init();
        Ok(OnlineLearner {
            model: model.valid(),
            adam,
            rng: StdRng::seed_from_u64(config.seed),
            config,
            known: HashMap::new(),
            source,
            source_features: None,
            device: device.clone(),
        })
    }

    /// The network as learnt so far.
    pub fn model(&self) -> &Classifier {
        &self.model
    }

    /// Learn from `samples` (every sample the person has labelled, `ids[i]` naming
    /// `samples[i]`): features for the ones not seen before, then a few steps of the head.
    /// Samples no longer listed are forgotten; a relabelled one is learnt with its new label.
    /// On a diverging loss the head is left as it was.
    pub async fn learn(
        &mut self,
        ids: &[String],
        samples: &[Sample],
    ) -> Result<Learned, TrainError> {
        let started = Instant::now();
        if samples.is_empty() {
            return Err(TrainError::NoSamples);
        }
        if ids.len() != samples.len() {
            return Err(TrainError::IdsDoNotMatch {
                ids: ids.len(),
                samples: samples.len(),
            });
        }
        check_labels(samples, self.model.classes())?;
        let fresh = self.add_new(ids, samples).await?;
        let recognised = fresh.iter().filter(|f| f.1).count();
        let listed: std::collections::HashSet<&String> = ids.iter().collect();
        self.known.retain(|id, _| listed.contains(id));
        let (loss, steps) = self
            .steps(ids, samples, &fresh.iter().map(|f| f.0).collect::<Vec<_>>())
            .await?;
        Ok(Learned {
            samples: samples.len(),
            new: fresh.len(),
            recognised,
            loss,
            steps,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Features of the samples not seen before, kept; returns their indices and whether the
    /// network predicted each as labelled before learning it. One device read per 256 samples.
    async fn add_new(
        &mut self,
        ids: &[String],
        samples: &[Sample],
    ) -> Result<Vec<(usize, bool)>, TrainError> {
        let new: Vec<usize> = (0..samples.len())
            .filter(|&i| !self.known.contains_key(&ids[i]))
            .collect();
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let width = self.model.architecture().feature_size();
        let classes = self.model.classes();
        let mut values = Vec::with_capacity(new.len() * (width + classes));
        for chunk in new.chunks(256) {
            let images = images_tensor(chunk.iter().map(|&i| &samples[i].image), &self.device);
            let features = self.model.backbone.forward(images);
            let logits = self.model.head.forward(features.clone());
            let n = chunk.len();
            let both = Tensor::cat(
                vec![features.reshape([n * width]), logits.reshape([n * classes])],
                0,
            );
            values.extend(read(both).await?);
        }
        let mut out = Vec::with_capacity(new.len());
        let mut offset = 0;
        for chunk in new.chunks(256) {
            let n = chunk.len();
            let (features, logits) =
                values[offset..offset + n * (width + classes)].split_at(n * width);
            offset += n * (width + classes);
            for (k, &i) in chunk.iter().enumerate() {
                let predicted = argmax(&logits[k * classes..(k + 1) * classes]);
                out.push((i, predicted == samples[i].label));
                (self.known).insert(
                    ids[i].clone(),
                    features[k * width..(k + 1) * width].to_vec(),
                );
            }
        }
        Ok(out)
    }

    /// The rehearsal digits' features, computed once.
    fn source_features(&mut self) -> Option<&(Tensor<2>, Vec<usize>)> {
        if self.source.is_empty() {
            return None;
        }
        if self.source_features.is_none() {
            let chunks: Vec<Tensor<2>> = self
                .source
                .chunks(256)
                .map(|chunk| {
                    let images = images_tensor(chunk.iter().map(|s| &s.image), &self.device);
                    self.model.backbone.forward(images)
                })
                .collect();
            let labels = self.source.iter().map(|s| s.label).collect();
            self.source_features = Some((Tensor::cat(chunks, 0), labels));
        }
        self.source_features.as_ref()
    }

    /// Up to `config.steps` Adam steps of the head, until the person's samples in a step are
    /// all `config.sure`; each step's batch is the new samples, then others at random, then
    /// rehearsed digits. Returns the last step's loss and the steps taken.
    async fn steps(
        &mut self,
        ids: &[String],
        samples: &[Sample],
        fresh: &[usize],
    ) -> Result<(f32, usize), TrainError> {
        let width = self.model.architecture().feature_size();
        let n = samples.len();
        let mut all = Vec::with_capacity(n * width);
        for id in ids {
            match self.known.get(id) {
                Some(features) => all.extend_from_slice(features),
                None => return Err(TrainError::NoSamples),
            }
        }
        let autodiff = self.device.clone().autodiff();
        let all = Tensor::<2>::from_data(TensorData::new(all, [n, width]), &self.device).autodiff();
        let source = self
            .source_features()
            .map(|(features, labels)| (features.clone().autodiff(), labels.clone()));
        let config = self.config.clone();
        let mut trained = self
            .model
            .clone()
            .set_require_grad(true)
            .fork(&autodiff)
            .train()
            .freeze_backbone();
        let is_fresh: std::collections::HashSet<usize> = fresh.iter().copied().collect();
        let mut others: Vec<usize> = (0..n).filter(|i| !is_fresh.contains(i)).collect();
        let mut last = None;
        let mut taken = 0;
        for _ in 0..config.steps.max(1) {
            let room = config
                .batch_size
                .saturating_sub(fresh.len())
                .min(others.len());
            let (chosen, _) = others.partial_shuffle(&mut self.rng, room);
            let rows: Vec<usize> = fresh.iter().chain(chosen.iter()).copied().collect();
            let mut labels: Vec<usize> = rows.iter().map(|&i| samples[i].label).collect();
            let rows: Vec<i64> = rows.iter().map(|&i| i as i64).collect();
            let count = rows.len();
            let mut x = all.clone().select(
                0,
                Tensor::from_data(TensorData::new(rows, [count]), &autodiff),
            );
            // The probability of each of the person's samples in this step for its label, as
            // the head predicts (no dropout, so that a sample learnt stays learnt): when all
            // are sure enough, the update is done (samples already learnt cost no step).
            let own = labels_tensor(&labels, &autodiff).reshape([count, 1]);
            let sure = softmax(trained.head.forward(x.clone()).detach(), 1).gather(1, own);
            if let Some((features, source_labels)) = &source {
                let drawn = draw_rehearsal(source_labels.len(), config.rehearsal, &mut self.rng);
                labels.extend(drawn.iter().map(|&i| source_labels[i]));
                let drawn: Vec<i64> = drawn.iter().map(|&i| i as i64).collect();
                let k = drawn.len();
                let rehearsed = features
                    .clone()
                    .select(0, Tensor::from_data(TensorData::new(drawn, [k]), &autodiff));
                x = Tensor::cat(vec![x, rehearsed], 0);
            }
            let keep = dropout_mask(labels.len(), width, &mut self.rng, &autodiff);
            let logits = trained.head.forward(x * keep);
            let loss = cross_entropy(logits, labels_tensor(&labels, &autodiff));
            last = Some(loss.clone().detach());
            let probabilities = read(sure.reshape([count])).await?;
            if probabilities.iter().all(|&p| p >= config.sure) {
                break;
            }
            taken += 1;
            let mut grads = loss.backward();
            let head = GradientsParams::from_module(&mut grads, &trained.head);
            trained = self.adam.step(config.learning_rate, trained, head);
        }
        let loss = match last {
            Some(loss) => read(loss.reshape([1])).await?.first().copied(),
            None => None,
        }
        .unwrap_or(f32::NAN);
        if !loss.is_finite() {
            return Err(TrainError::Diverged {
                epoch: 1,
                batch: None,
                loss,
            });
        }
        self.model = trained.valid();
        Ok((loss, taken))
    }
}
