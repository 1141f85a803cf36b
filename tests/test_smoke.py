from tests.conftest import TinyData, tiny_gan, tiny_trainer


def test_tiny_gan_trains_two_iterations(tmp_path):
    model = tiny_gan(n_critic=2)
    trainer = tiny_trainer(tmp_path, max_steps=2)
    trainer.fit(model, TinyData())
    assert trainer.global_step == 2
