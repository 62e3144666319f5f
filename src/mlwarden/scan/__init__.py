"""Model-file analysis without executing anything: a symbolic pickle VM and one parser per format."""
