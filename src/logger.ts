import type { FastifyBaseLogger } from 'fastify';

/** The logger every part receives: pino's interface as Fastify exposes it (child loggers included). */
export type Logger = FastifyBaseLogger;
