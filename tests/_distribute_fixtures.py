"""Helpers shared by the distribution tests' subprocesses (import after `distribute.use_logical_cpus`)."""

import tensorflow as tf


class GlobalBatchLatents:
    """GAN mixin: draws the global batch's latents and keeps this replica's slice, so replica r gets the
    latents of the examples it gets (MirroredStrategy splits each global batch in order) and a
    multi-replica run sees exactly the latents of the one-device run."""

    def sample_latents(self, batch_size, stream, counter):
        context = tf.distribute.get_replica_context()
        replica, replicas = context.replica_id_in_sync_group, context.num_replicas_in_sync
        seed = tf.stack([tf.cast(counter, tf.int64), tf.constant(stream, tf.int64)])
        z = tf.random.stateless_normal(tf.stack([batch_size * replicas, self.latent_dim]), seed=seed)
        return z[replica * batch_size:(replica + 1) * batch_size]
