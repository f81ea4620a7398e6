"""kernelflow serving: Ray Serve deployments of registry models."""
