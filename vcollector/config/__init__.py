"""Where things live: the vcollector home, default paths and the environment variables."""
