"""tfcolor: hint-guided line art colorization with Concatenated Spatial Attention."""
