"""Batched fits shard their data-set axis over all local devices. Two host devices
stand in for two GPUs (XLA's --xla_force_host_platform_device_count, which must be set
before JAX starts, hence the subprocess): the sharded bootstrap equals the one-device
one, and the inputs really were spread over both devices."""
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import numpy as np
    import jax
    from sem import Model, estimation
    from sem.datasets import load

    assert len(jax.local_devices()) == 2, jax.local_devices()
    m = Model("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6")
    hs = load("HolzingerSwineford1939")
    d = m.prepare(hs)
    prob = m.problem(d)
    theta0 = m.fit(hs, warn=False).theta
    rng = np.random.default_rng(1)
    n = d["Y"].shape[0]
    W = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(5)])
    seen = []
    real_put = jax.device_put
    def spy(x, sharding=None, **kw):
        if sharding is not None:
            seen.append(len(sharding.device_set))
        return real_put(x, sharding, **kw)
    jax.device_put = spy
    sharded = estimation.maximize_weighted(prob, d, W, theta0, batch_size=None)
    one = estimation.maximize_weighted(prob, d, W, theta0, batch_size=None, shard=False)
    jax.device_put = real_put
    assert seen == [2], seen                 # 5 data sets padded to 6, on 2 devices
    assert len(sharded) == 5
    for a, b in zip(sharded, one):
        assert a.converged and b.converged
        np.testing.assert_allclose(a.theta, b.theta, rtol=1e-8, atol=1e-10)
    print("ok")
''')


def test_fits_shard_over_local_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu", TRAJMIX_COMPILE_CACHE="off")
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
