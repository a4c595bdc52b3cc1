import pytest

Y10 = [f"Y{j}" for j in range(1, 11)]
T10 = [f"T{j}" for j in range(1, 11)]


@pytest.fixture(scope="session")
def liu():
    from trajmix.datasets import load
    return load("liu_perera_moe_example")


@pytest.fixture(scope="session")
def ecls():
    from trajmix.datasets import load
    df = load("ecls_k2011")
    for j in range(1, 10):
        df[f"t{j}"] = df[f"T{j}"] - df["T1"]      # months since the first wave (nlpsem)
    return df
