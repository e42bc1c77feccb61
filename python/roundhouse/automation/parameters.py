"""ClearML's hyperparameter ranges (clearml.automation.parameters), with
the same constructor arguments and the same values: get_value() samples as
ClearML does, to_list() lists the grid ClearML's GridSearch walks. Each
range also turns itself into an experiment config's hyperparameter
(docs/experiments.md): uniform ranges become `double`/`int` ranges, a log
range a `log` range over the same exponents and base, discrete values (and
every range under a grid search, so the grid is ClearML's) `categorical`."""
import random as _random


class RandomSeed(object):
    _random = _random.Random(1337)
    _seed = 1337

    @staticmethod
    def set_random_seed(seed=1337):
        RandomSeed._seed = seed
        RandomSeed._random = _random.Random(seed)

    @staticmethod
    def get_random_seed():
        return RandomSeed._seed


class Parameter(RandomSeed):
    def __init__(self, name):
        self.name = name

    def get_value(self):
        raise NotImplementedError

    def to_list(self):
        raise NotImplementedError

    def to_dict(self):
        d = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        d["type"] = type(self).__name__
        return d

    def _space(self):
        """This range as a config hyperparameter (random-style searchers)."""
        return {"type": "categorical", "vals": [next(iter(v.values())) for v in self.to_list()]}

    def _grid_space(self):
        return {"type": "categorical", "vals": [next(iter(v.values())) for v in self.to_list()]}


class UniformParameterRange(Parameter):
    def __init__(self, name, min_value, max_value, step_size=None, include_max_value=True):
        super().__init__(name)
        self.min_value = float(min_value)
        self.max_value = float(max_value)
        self.step_size = float(step_size) if step_size is not None else None
        self.include_max = include_max_value

    def get_value(self):
        if not self.step_size:
            return {self.name: self._random.uniform(self.min_value, self.max_value)}
        steps = (self.max_value - self.min_value) / self.step_size
        return {self.name: self.min_value + self._random.randrange(0, round(steps)) * self.step_size}

    def to_list(self):
        step = self.step_size or (self.max_value - self.min_value) / 100.0
        n = int((self.max_value - self.min_value) / step)
        values = [self.min_value + i * step for i in range(n)]
        if self.include_max and (not values or values[-1] < self.max_value):
            values.append(self.max_value)
        return [{self.name: v} for v in values]

    def _space(self):
        if self.step_size:
            return Parameter._space(self)
        return {"type": "double", "minval": self.min_value, "maxval": self.max_value}


class LogUniformParameterRange(UniformParameterRange):
    """min_value and max_value are exponents of base, as in ClearML."""

    def __init__(self, name, min_value, max_value, base=10, step_size=None, include_max_value=True):
        super().__init__(name, min_value, max_value, step_size=step_size, include_max_value=include_max_value)
        self.base = base

    def get_value(self):
        return {self.name: self.base ** v for v in super().get_value().values()}

    def to_list(self):
        return [{self.name: self.base ** v[self.name]} for v in super().to_list()]

    def _space(self):
        if self.step_size:
            return Parameter._space(self)
        return {"type": "log", "minval": self.min_value, "maxval": self.max_value, "base": self.base}


class UniformIntegerParameterRange(Parameter):
    def __init__(self, name, min_value, max_value, step_size=1, include_max_value=True):
        super().__init__(name)
        self.min_value = int(min_value)
        self.max_value = int(max_value)
        self.step_size = int(step_size) if step_size is not None else None
        self.include_max = include_max_value

    def get_value(self):
        return {self.name: self._random.randrange(self.min_value, self.max_value + (self.step_size if self.include_max else 0),
                                                  self.step_size)}

    def to_list(self):
        values = list(range(self.min_value, self.max_value, self.step_size))
        if self.include_max and (not values or values[-1] < self.max_value):
            values.append(self.max_value)
        return [{self.name: v} for v in values]

    def _space(self):
        if self.step_size == 1:
            hi = self.max_value if self.include_max else self.max_value - 1
            return {"type": "int", "minval": self.min_value, "maxval": hi}
        return Parameter._space(self)


class DiscreteParameterRange(Parameter):
    def __init__(self, name, values=()):
        super().__init__(name)
        self.values = values

    def get_value(self):
        return {self.name: self._random.choice(self.values)}

    def to_list(self):
        return [{self.name: v} for v in self.values]


__all__ = ["Parameter", "UniformParameterRange", "LogUniformParameterRange", "UniformIntegerParameterRange",
           "DiscreteParameterRange", "RandomSeed"]
