import { defineCommand } from '../../cli/command';

export const injectCommand = defineCommand<{ domainXml: string; networkInfo: string }>({
  name: 'inject',
  describe: 'print the domain XML with the desired <nova:ports> in place',
  positionals: [
    { name: 'domain-xml', describe: 'domain XML file, - for stdin', required: true },
    { name: 'network-info', describe: 'network_info JSON file, - for stdin', required: true },
  ],
  lean: true,
  run: async (args, io) => (await import('./run')).run(args, io),
});
