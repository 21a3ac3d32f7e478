"""Small generative models on 2-D toy data: GMM, VAE, GAN, AR, flow, diffusion (Q50)."""
