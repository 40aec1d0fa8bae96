"""Doctest namespace: docstring examples may use torch and every public birnn name."""

import pytest
import torch

import birnn
import birnn.layers


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["torch"] = torch
    doctest_namespace["birnn"] = birnn
    for name in birnn.layers.__all__:
        if name[0].isupper():  # classes only: module functions keep their own names
            doctest_namespace[name] = getattr(birnn.layers, name)
    torch.manual_seed(0)
