"""The network: an LSTM encoder over the context, a direct multi-horizon head, negative-binomial outputs.

Why a direct head instead of DeepAR's autoregressive decoder: the horizon's covariates (calendar, price) are
known, so one pass gives all ``H`` days without feeding samples back, which keeps scoring a few batched
forward passes. Outputs per day: mean ``mu = softplus(a) * scale`` and dispersion
``alpha = softplus(b) / sqrt(scale)`` of a negative binomial with variance ``mu + alpha mu^2`` (the
parameterisation and the scaling of DeepAR, Salinas et al. 2020, section 3.1), which keeps real probability
mass at zero for intermittent series.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from forecasting.lstm.features import FUTURE, PAST


@dataclass(frozen=True)
class NetworkConfig:
    hidden: int = 48
    layers: int = 1
    dropout: float = 0.1
    id_buckets: int = 8192
    id_dim: int = 12
    location_buckets: int = 64
    category_buckets: int = 256
    small_dim: int = 4
    past_features: int = PAST  # PAST_V1 / FUTURE_V1 for networks saved before the event flags
    future_features: int = FUTURE

    def as_dict(self) -> dict[str, int | float]:
        return asdict(self)


class DemandLSTM(nn.Module):
    """Inputs (``b`` windows, ``C`` context days, ``H`` horizon days), as :meth:`input_shapes` declares."""

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        self.id_embedding = nn.Embedding(config.id_buckets, config.id_dim)
        self.location_embedding = nn.Embedding(config.location_buckets, config.small_dim)
        self.category_embedding = nn.Embedding(config.category_buckets, config.small_dim)
        static = config.id_dim + 2 * config.small_dim + 1
        self.encoder = nn.LSTM(
            config.past_features + static, config.hidden, num_layers=config.layers, batch_first=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )  # fmt: skip
        self.head = nn.Sequential(
            nn.Linear(config.hidden + config.future_features + static, config.hidden),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, 2),
        )

    @staticmethod
    def input_shapes(context: int, horizon: int) -> dict[str, tuple[str | int, ...]]:
        return {
            "past": ("b", context, PAST),
            "future": ("b", horizon, FUTURE),
            "ids": ("b", 3),
            "log_scale": ("b",),
            "scale": ("b",),
        }

    def forward(
        self, past: Tensor, future: Tensor, ids: Tensor, log_scale: Tensor, scale: Tensor
    ) -> tuple[Tensor, Tensor]:
        """``(mu, alpha)``, each ``[b, H]``."""
        static = torch.cat(
            [
                self.id_embedding(ids[:, 0]),
                self.location_embedding(ids[:, 1] % self.config.location_buckets),
                self.category_embedding(ids[:, 2] % self.config.category_buckets),
                log_scale[:, None],
            ],
            dim=1,
        )
        steps = past.shape[1]
        encoded, _ = self.encoder(torch.cat([past, static[:, None, :].expand(-1, steps, -1)], dim=2))
        last = encoded[:, -1, :]
        horizon = future.shape[1]
        joined = torch.cat(
            [last[:, None, :].expand(-1, horizon, -1), future, static[:, None, :].expand(-1, horizon, -1)], dim=2
        )
        raw = self.head(joined)
        mu = nn.functional.softplus(raw[..., 0]) * scale[:, None] + 1e-6
        alpha = (nn.functional.softplus(raw[..., 1]) + 1e-4) / torch.sqrt(scale)[:, None]
        return mu, alpha


def negative_binomial_nll(y: Tensor, mu: Tensor, alpha: Tensor, mask: Tensor) -> Tensor:
    """Mean negative log-likelihood of counts ``y`` over the cells where ``mask`` is true.

    ``log P(y) = lgamma(y + 1/a) - lgamma(1/a) - lgamma(y + 1) + (1/a) log(1 / (1 + a mu))
    + y log(a mu / (1 + a mu))``.
    """
    r = 1.0 / alpha
    log_p = (
        torch.lgamma(y + r) - torch.lgamma(r) - torch.lgamma(y + 1)
        - r * torch.log1p(alpha * mu) + y * (torch.log(alpha * mu) - torch.log1p(alpha * mu))
    )  # fmt: skip
    weight = mask.to(log_p.dtype)
    return -(log_p * weight).sum() / weight.sum().clamp(min=1.0)


def poisson_nll(y: Tensor, mu: Tensor, mask: Tensor) -> Tensor:
    """Mean Poisson negative log-likelihood (up to a term in ``y`` alone): ``mu - y log mu``. Its minimiser is
    the conditional mean whatever the distribution, so a mean learnt with it is unbiased in total."""
    weight = mask.to(mu.dtype)
    return ((mu - y * torch.log(mu)) * weight).sum() / weight.sum().clamp(min=1.0)


def training_loss(y: Tensor, mu: Tensor, alpha: Tensor, mask: Tensor) -> Tensor:
    """Poisson loss for the mean plus the negative-binomial likelihood for the dispersion at that mean.

    The negative-binomial likelihood alone settles below the mean on lumpy demand (a rare big order costs less
    as dispersion than as level), which under-forecasts totals; stopping its gradient into ``mu`` leaves the
    level to the Poisson term and the spread to the negative binomial.
    """
    return poisson_nll(y, mu, mask) + negative_binomial_nll(y, mu.detach(), alpha, mask)
