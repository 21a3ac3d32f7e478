"""Figures and the likelihood table of Q50: six small generative models on two moons."""

from __future__ import annotations

from functools import cache

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlhandbook.figures import figure, table
from dlhandbook.figures.style import PALETTE
from dlhandbook.generative.autoregressive import (
    Autoregressive2D,
    bin_centres,
    discretise,
    fit_autoregressive,
    log_density,
)
from dlhandbook.generative.diffusion import (
    Denoiser,
    ddpm_sample,
    fit_diffusion,
    linear_beta_schedule,
    q_step,
)
from dlhandbook.generative.flow import fit_flow, realnvp
from dlhandbook.generative.gan import GAN, fit_gan
from dlhandbook.generative.gmm import gmm_em, gmm_log_density, gmm_sample
from dlhandbook.generative.toy_data import two_moons
from dlhandbook.generative.vae import VAE, fit_vae

N_TRAIN, N_TEST, N_SAMPLES, NOISE = 2000, 1000, 1000, 0.08
K, BINS, LOW, HIGH, T = 12, 32, -1.6, 2.6, 100
STEPS = {"flow": 400, "ar": 400, "vae": 400, "gan": 1000, "diffusion": 1500}


@cache
def _experiment():
    """Train every model once on the same data (seeded); samples and held-out log-likelihoods.

    (One thread, so the same floating-point sums on every machine: generate.run_job sees to it.)
    """
    return _train_all()


def _train_all():
    X_np = two_moons(N_TRAIN, noise=NOISE, seed=0)
    test_np = two_moons(N_TEST, noise=NOISE, seed=1)
    X, test = torch.tensor(X_np, dtype=torch.float32), torch.tensor(test_np, dtype=torch.float32)
    g = torch.Generator().manual_seed(0)
    samples, loglik = {}, {}

    gmm, _ = gmm_em(X_np, K, n_iter=100, seed=0)
    samples["gmm"] = gmm_sample(gmm, N_SAMPLES, seed=0)
    loglik["gmm"] = gmm_log_density(test_np, gmm).mean()

    torch.manual_seed(0)
    flow = realnvp(n_couplings=4, hidden=32)
    fit_flow(flow, X, steps=STEPS["flow"], lr=5e-3)
    with torch.no_grad():
        samples["flow"] = flow.sample(N_SAMPLES, generator=g).numpy()
        loglik["flow"] = flow.log_prob(test).mean().item()

    torch.manual_seed(0)
    ar = Autoregressive2D(BINS, hidden=32)
    fit_autoregressive(ar, discretise(X, BINS, LOW, HIGH), steps=STEPS["ar"], lr=1e-2)
    with torch.no_grad():
        idx = ar.sample(N_SAMPLES, generator=g)
        side = (HIGH - LOW) / BINS
        jitter = torch.rand(N_SAMPLES, 2, generator=g, dtype=torch.float64) - 0.5
        samples["ar"] = (bin_centres(idx, BINS, LOW, HIGH) + side * jitter).numpy()
        loglik["ar"] = log_density(ar, test, LOW, HIGH).mean().item()

    torch.manual_seed(0)
    vae = VAE(latent_dim=2, hidden=32)
    fit_vae(vae, X, steps=STEPS["vae"], lr=5e-3)
    with torch.no_grad():
        samples["vae"] = vae.sample(N_SAMPLES, generator=g).numpy()
        torch.manual_seed(1)
        loglik["vae"] = vae.iw_log_likelihood(test, n_samples=1000).mean().item()
        loglik["vae-elbo"] = vae.elbo(test, n_samples=100).mean().item()

    torch.manual_seed(0)
    gan = GAN(hidden=64)
    fit_gan(gan, X, steps=STEPS["gan"], batch_size=128)
    with torch.no_grad():
        samples["gan"] = gan.sample(N_SAMPLES, generator=g).numpy()

    torch.manual_seed(0)
    betas = linear_beta_schedule(T)
    denoiser = Denoiser(T, hidden=64)
    fit_diffusion(denoiser, X, betas, steps=STEPS["diffusion"], lr=1e-2, batch_size=512)
    samples["diffusion"] = ddpm_sample(denoiser, N_SAMPLES, betas, generator=g).numpy()
    return X_np, samples, loglik


PANELS = {
    "gmm": f"Gaussian mixture, $K={K}$ (EM)",
    "flow": "RealNVP flow",
    "ar": f"autoregressive, {BINS}x{BINS} bins",
    "vae": "VAE",
    "gan": "GAN (non-saturating)",
    "diffusion": f"diffusion (DDPM), $T={T}$",
}


@figure("generative-samples")
def generative_samples():
    X, samples, _ = _experiment()
    fig, axes = plt.subplots(3, 2, figsize=(5.8, 8.2), sharex=True, sharey=True)
    for i, (ax, (key, title)) in enumerate(zip(axes.flat, PANELS.items(), strict=True)):
        ax.scatter(X[:N_SAMPLES, 0], X[:N_SAMPLES, 1], s=3, color="#868e96", alpha=0.5,
                   linewidths=0, rasterized=True, label="data")
        S = samples[key]
        ax.scatter(S[:, 0], S[:, 1], s=3, color=PALETTE[i % 6], alpha=0.8, linewidths=0,
                   rasterized=True, label="samples")
        ax.set_title(title)
        ax.set_xlim(-1.8, 2.8)
        ax.set_ylim(-1.3, 1.8)
        ax.set_aspect("equal")
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=c, label=label)
               for c, label in (("#868e96", "data (grey)"), (PALETTE[0], "model samples (colour)"))]
    fig.legend(handles=handles, loc="outside lower center", ncol=2)
    return fig


@table("generative-likelihoods")
def generative_likelihoods():
    _, _, loglik = _experiment()
    rows = ["| model | what it gives for $\\log p(x)$ | mean on 1000 held-out points (nats) |",
            "|---|---|---:|",
            f"| Gaussian mixture ($K={K}$, EM) | exact | {loglik['gmm']:.3f} |",
            f"| RealNVP flow | exact (change of variables) | {loglik['flow']:.3f} |",
            f"| autoregressive, {BINS}x{BINS} bins | exact for the bins; density after spreading "
            f"each bin's mass uniformly | {loglik['ar']:.3f} |",
            f"| VAE | lower bound: ELBO | {loglik['vae-elbo']:.3f} |",
            f"| VAE | importance-sampled estimate, $K=1000$ | {loglik['vae']:.3f} |",
            "| GAN | none (samples only) | n/a |",
            "| diffusion (DDPM) | lower bound (not computed here) | n/a |"]
    return "\n".join(rows)


@cache
def _em_and_noising():
    X = two_moons(N_TRAIN, noise=NOISE, seed=0)
    histories = [gmm_em(X, K, n_iter=100, seed=s)[1] for s in range(3)]
    betas = linear_beta_schedule(T)
    alpha_bar = torch.cumprod(1 - betas, dim=0)
    g = torch.Generator().manual_seed(0)
    x = torch.tensor(X, dtype=torch.float64)
    stds = []
    for t in range(T):
        noise = torch.randn(x.shape, generator=g, dtype=torch.float64)
        x = q_step(x, torch.full((x.shape[0],), t), betas, noise)
        stds.append(x.std(dim=0).numpy())
    var0 = X.var(axis=0, ddof=1)
    closed = np.sqrt(alpha_bar.numpy()[:, None] * var0 + 1 - alpha_bar.numpy()[:, None])
    return histories, np.array(stds), closed


@figure("generative-em-and-noising")
def em_and_noising():
    histories, stds, closed = _em_and_noising()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(5.8, 3.2))
    for s, h in enumerate(histories):
        ax.plot(np.arange(1, len(h) + 1), h, color=PALETTE[s], label=f"seed {s}")
    ax.set_xscale("log")
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("mean log-likelihood")
    ax.set_title(f"EM, $K={K}$")
    ax.legend()
    t = np.arange(1, len(stds) + 1)
    for d, name in enumerate(("$x_1$", "$x_2$")):
        ax2.plot(t, stds[:, d], color=PALETTE[3 + d], label=f"iterated, {name}")
        ax2.plot(t, closed[:, d], color="#868e96", linestyle="--", linewidth=1.2,
                 label="closed form" if d == 0 else None)
    ax2.set_xlabel("noising step $t$")
    ax2.set_ylabel("std of $x_t$")
    ax2.set_title(f"forward process, $T={T}$")
    ax2.legend()
    return fig
