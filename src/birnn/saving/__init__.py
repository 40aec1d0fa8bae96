"""Reading Keras configs and files, and birnn's own format."""
