"""picacheck: verify, break and load-test the Picasoft infrastructure against its documentation."""

__version__ = "0.1.0"
