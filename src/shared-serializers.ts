// Response serializers shared between routes that answer with the same schema object. Every
// legacy method is served at two URLs and every route lists the same error bodies, so Fastify's
// default compiler built the same fast-json-stringify function hundreds of times at start-up
// (compile time, and memory held for as long as the process runs). Ajv already caches validators
// by schema object; this does the same for serializers.
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'

type Factory = ReturnType<typeof SerializerSelector>

/** Fastify's `schemaController.compilersFactory.buildSerializer`: the default one, built once per schema object. */
export function sharedSerializerFactory (): Factory {
  const buildDefault = SerializerSelector()
  return (externalSchemas, options) => {
    const compile = buildDefault(externalSchemas, options)
    const built = new WeakMap<object, ReturnType<typeof compile>>()
    return (route) => {
      // Fastify compiles a serializer only for a response schema it holds, always an object.
      const schema = route.schema as object
      let serialize = built.get(schema)
      if (serialize === undefined) {
        serialize = compile(route)
        built.set(schema, serialize)
      }
      return serialize
    }
  }
}
