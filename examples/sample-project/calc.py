"""A tiny module for the same-task examples to change."""


def add(a, b):
    return a + b
