"""The pytest door: `pytest --pyargs autograder.suite --submission FILE` lists one test per check.

Registered as a pytest plugin by the package, so it must stay light: options only; the suite
imports the autograder when it runs."""


def pytest_addoption(parser):
    group = parser.getgroup("backprop-kit")
    group.addoption("--submission", default=None,
                    help="a .py file or notebook to judge with the autograder.suite tests (default: the reference)")
    group.addoption("--assignment", default=None,
                    help="with autograder.suite: judge only this assignment (e.g. 02_activations or 02)")
