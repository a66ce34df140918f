// Package optim trains energy-based models: the CD-k and PCD-k gradient estimators expressed as
// the gradient of a free-energy difference, the minibatch training loop, schedules for learning
// rate and momentum, L2 weight decay, and per-epoch monitoring.
//
// # Estimators
//
// CD{K: k} is contrastive divergence (Hinton 2002): each minibatch v0 starts k steps of the
// model's Gibbs chain, and the parameters descend the gradient of
//
//	mean_n F(v0_n) - mean_n F(vk_n)
//
// computed by gorgonia's Grad; the samples are stop-gradient ops, so this equals the analytic
// CD-k gradient -(⟨v p(h|v)ᵀ⟩_data - ⟨v p(h|v)ᵀ⟩_model) for an RBM. CD{K: k, Persistent: true}
// is PCD-k (Tieleman 2008): the chains keep their state from one minibatch to the next.
//
// # Updates
//
// Train applies, for every parameter θ, Δ ← μΔ - ε(∇θ + λθ), θ ← θ + Δ, with the learning rate ε
// and momentum μ of the epoch (Schedule values: Constant, Switch, InverseDecay; HintonMomentum is
// 0.5 → 0.9 after five epochs as in Hinton's practical guide, 2010) and λ the weight decay,
// applied to weight matrices only. The update is our own: Gorgonia's Momentum solver ignores L2
// and its AdamW never updates.
//
// # Monitoring
//
// After each epoch Train records (EpochRecord, also as one JSON line to Settings.Record) the mean
// CD cost, and on the first Settings.MonitorRows rows of the training and validation data: the mean
// free energy, the one-bit pseudo-likelihood estimate (a per-row sum over bits, nats; see Metrics),
// the mean-field reconstruction cross-entropy (for graph.Reconstructor models), and the free-energy
// gap mean F(validation) - mean F(training) that signals overfitting (Hinton 2010, §6).
// A progress bar (github.com/schollz/progressbar) goes to Settings.Progress when set.
//
// # Reproducibility and errors
//
// Every random draw comes from the math/rand/v2 Sources in Settings (Shuffle for minibatch order,
// Chains for the negative phase, Monitor for the pseudo-likelihood bits): the same seeds give
// bit-identical parameters. Bad settings or data (shape, dtype, NaN/Inf, values the model's units
// cannot take) return errors naming the problem before training starts; cancelling the context
// stops it between minibatches.
//
// # Divergence and clipping
//
// Before a minibatch's update is applied, every parameter's new value θ + Δ is computed (not
// stored) and checked: a NaN or infinite cost, gradient entry or new value stops training with an
// error naming the epoch, the minibatch, the parameter and the entry, and nothing is changed but
// the random sources' positions: the model keeps its last finite parameters (and the trainer its
// velocities and chains).
// Settings.ClipNorm optionally rescales the step of a minibatch whose gradient norm exceeds it
// (gradient-norm clipping, Pascanu et al. 2013).
//
// # Checkpoints
//
// Trainer.SaveCheckpoint writes (atomically: temporary file, fsync, rename) a versioned,
// SHA-256-checked file holding the parameters, momentum velocities, persistent chains, the
// position (epoch, minibatch, the epoch's row order) and the Shuffle, Chains and Monitor source
// states (which must implement encoding.BinaryMarshaler, as *rand.PCG and *rand.ChaCha8 do);
// Trainer.LoadCheckpoint restores it, and training then continues bit for bit as if never
// stopped. Train does this through Settings.Checkpoint (every Settings.CheckpointEvery epochs and
// on cancellation) and Settings.Resume. A truncated, corrupt or mismatched checkpoint gives an
// error naming the problem and changes nothing.
//
// # New energies
//
// Any type implementing Model (dtype, visible count, Bind) whose bound form implements
// graph.EnergyModel (Params, FreeEnergy, GibbsStep) trains unchanged; see Example_newEnergy.
package optim
