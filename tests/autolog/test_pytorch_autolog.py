"""PyTorch autolog: LoopLogger for plain loops, and the Lightning callback."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import kernelflow  # noqa: E402
from kernelflow.pytorch import LoopLogger  # noqa: E402

rng = np.random.default_rng(0)
X = torch.from_numpy(rng.random((32, 4)).astype("float32"))
Y = X.sum(dim=1, keepdim=True)


def train(log, net, epochs=2, fail_at=None):
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for epoch in range(epochs):
        for i in range(0, len(X), 8):
            if fail_at == (epoch, i):
                raise RuntimeError("boom")
            loss = torch.nn.functional.mse_loss(net(X[i : i + 8]), Y[i : i + 8])
            opt.zero_grad()
            loss.backward()
            opt.step()
            log.step(loss=loss)
        log.epoch(val_metric=float(epoch))


def test_loop_logger_logs_steps_epochs_params_and_model(tracking_uri, runs, client):
    net = torch.nn.Linear(4, 1)
    with LoopLogger(net, params={"lr": 0.05}, input_example=X[:3].numpy()) as log:
        train(log, net)
    (run,) = runs()
    assert run.info.status == "FINISHED"
    assert run.data.params == {"lr": "0.05", "model_class": "Linear", "trainable_params": "5"}
    steps = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in steps] == list(range(1, 9))
    epochs = client.get_metric_history(run.info.run_id, "epoch_loss")
    assert [m.step for m in epochs] == [0, 1]
    assert epochs[0].value == pytest.approx(np.mean([m.value for m in steps[:4]]))
    assert run.data.metrics["val_metric"] == 1.0
    loaded = kernelflow.load_model(f"runs:/{run.info.run_id}/model")
    with torch.no_grad():
        np.testing.assert_allclose(loaded.predict(X[:4].numpy()), net(X[:4]).numpy(), rtol=1e-5)


def test_loop_logger_every_n_steps(tracking_uri, runs, client):
    net = torch.nn.Linear(4, 1)
    with LoopLogger(net, log_every_n_steps=4, log_model=False) as log:
        train(log, net)
    steps = client.get_metric_history(runs()[0].info.run_id, "loss")
    assert [m.step for m in steps] == [4, 8]


def test_loop_error_fails_run_and_skips_model(tracking_uri, runs, client):
    net = torch.nn.Linear(4, 1)
    with pytest.raises(RuntimeError, match="boom"):
        with LoopLogger(net) as log:
            train(log, net, fail_at=(1, 8))
    (run,) = runs()
    assert run.info.status == "FAILED"
    assert client.list_artifacts(run.info.run_id) == []


def test_loop_logger_inside_active_run_keeps_it_open(tracking_uri, runs):
    net = torch.nn.Linear(4, 1)
    with kernelflow.start_run() as active:
        with LoopLogger(net, log_model=False) as log:
            train(log, net, epochs=1)
        assert kernelflow.active_run().info.run_id == active.info.run_id


def test_lightning_autolog(autolog, runs, client):
    L = pytest.importorskip("lightning")

    class Regressor(L.LightningModule):
        def __init__(self, lr=0.05):
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Linear(4, 1)

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, _):
            loss = torch.nn.functional.mse_loss(self(batch[0]), batch[1])
            self.log("train_loss", loss, on_epoch=True, on_step=False)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    autolog()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=8)
    module = Regressor()
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, loader)
    (run,) = runs()
    assert run.info.status == "FINISHED"
    assert run.data.params["epochs"] == "2" and run.data.params["lr"] == "0.05"
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert [m.step for m in history] == [0, 1]
    loaded = kernelflow.load_model(f"runs:/{run.info.run_id}/model")
    with torch.no_grad():
        np.testing.assert_allclose(loaded.predict(X[:2].numpy()), module(X[:2]).numpy(), rtol=1e-5)
