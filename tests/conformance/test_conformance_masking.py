"""resvg conformance, masking/: one test per case against the recorded run
(tests/support/conformance_cases.py says how cases are checked and recorded)."""
import pytest

from support.conformance_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("masking/"))
def test_case(case):
    check_case(case)
