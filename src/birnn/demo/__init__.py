"""Demo: word segmentation of Python's own documentation with a Bidirectional LSTM.

Run it with `python -m birnn.demo --help`. Characters of English sentences are
fed without their spaces; a tagger predicts where each word ends. A
forward-only LSTM only sees the text up to the current character, so it has to
guess whether the next one starts a new word; the Bidirectional LSTM also sees
what follows. Both get about the same number of parameters.
"""
