"""Pre- and post-processing that image models need (reading images, resizing)."""
